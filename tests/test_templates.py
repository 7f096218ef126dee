"""Same-template reports of different days: never a crash, and kept apart by their dates.

Hundreds of match reports written from one template ("Fulham 2-0 Leicester"), one round a
week, are the worst case for the centroid index: the few events that grow re-centre over and
over, leaving deleted points that crowd the live ones out of a search. One round's matches
(one day, different teams) are kept apart by the cap on same-language pairs that name
different things; how well the rounds of different weeks are kept apart is measured by
``bench/templates.py`` (not pinned: see its results).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from storyline.cluster.index import CentroidIndex
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline

TEAMS = ["Fulham", "Leicester", "Burnley", "Everton", "Wolves", "Brentford", "Bournemouth", "Watford"]


def match_reports(n: int) -> list[dict[str, str]]:
    """``n`` reports, four matches a round, one round a week, from one template."""
    rng = np.random.default_rng(3)
    start = dt.date(2023, 8, 5)
    rows = []
    for i in range(n):
        week, slot = divmod(i, 4)
        home, away = (TEAMS[(2 * slot + week) % 8], TEAMS[(2 * slot + 1 + 3 * week) % 8])
        if home == away:
            away = TEAMS[(TEAMS.index(away) + 1) % 8]
        a, b = (int(x) for x in rng.integers(0, 4, 2))
        day = start + dt.timedelta(weeks=week)
        rows.append({
            "id": f"match-{i:03d}",
            "title": f"{home} {a}-{b} {away}",
            "text": (
                f"{home} and {away} met on Saturday in the league, and the match ended {a}-{b}.\n"
                f"The home side {home} had more of the ball; {away} defended deep.\n"
                "Both managers spoke to reporters after the final whistle."
            ),
            "lang": "en",
            "published": day.isoformat(),
        })
    return rows


def test_a_search_never_asks_for_more_than_the_index_can_return() -> None:
    index = CentroidIndex(8)
    rng = np.random.default_rng(0)
    v = rng.normal(size=8)
    for i in range(2000):  # one centroid re-centred 2,000 times beside a few others
        w = v + 0.01 * rng.normal(size=8)
        w /= np.linalg.norm(w)
        index.upsert("grown" if i % 5 else f"other-{i % 40}", w)
        hits = index.query(w, 10)
        assert hits and len(hits) == min(10, len(index))
    assert index.n_deleted <= max(len(index), 256)  # rebuilt from the live points


def test_hundreds_of_same_template_reports_cluster_without_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "matches.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in match_reports(300)))
    db = tmp_path / "m.db"
    first = Pipeline(str(db), encoder=HashingEncoder(), second=False).run([str(path)])
    assert len(first.assignments) == 300
    again = Pipeline(str(db), encoder=HashingEncoder(), second=False).run([str(path)])  # the rerun too
    assert {a.article_id: a.event for a in again.assignments} == {
        a.article_id: a.event for a in first.assignments
    }


def test_the_cap_applies_only_to_same_language_pairs_naming_different_things() -> None:
    from storyline.cluster.pairs import DISJOINT_CAP, FEATURES, cap_disjoint

    col = {f: i for i, f in enumerate(FEATURES)}
    x = np.zeros((5, len(FEATURES)))
    x[:, col["same_lang"]] = [1, 1, 1, 0, 1]
    x[:, col["names_shared"]] = [0, np.log1p(1), 0, 0, 0]
    x[:, col["names_min"]] = [np.log1p(2), np.log1p(2), np.log1p(1), np.log1p(5), np.log1p(3)]
    p = np.array([0.99, 0.99, 0.99, 0.99, 0.1])
    # capped: the first (2 names each, none shared); not: one shared, one side names one
    # thing, two languages (names are matched less well across them); a low one stays as it is
    assert cap_disjoint(x, p).tolist() == [DISJOINT_CAP, 0.99, 0.99, 0.99, 0.1]


def test_the_cap_counts_a_shared_country_as_nothing_in_common() -> None:
    from storyline.cluster.pairs import DISJOINT_CAP, FEATURES, cap_disjoint

    col = {f: i for i, f in enumerate(FEATURES)}
    x = np.zeros((4, len(FEATURES)))
    x[:, col["same_lang"]] = [1, 1, 1, 0]
    x[:, col["names_shared"]] = np.log1p(2)  # the country's key and its name: "names" shared
    x[:, col["names_min"]] = np.log1p(4)
    x[:, col["specific_shared"]] = [0, np.log1p(1), 0, 0]
    x[:, col["specific_min"]] = [np.log1p(1), np.log1p(1), 0, np.log1p(1)]
    p = np.full(4, 0.95)
    # capped: each names a city, not the same one; not: one city shared, one side names no
    # person, organisation or place, two languages
    assert cap_disjoint(x, p).tolist() == [DISJOINT_CAP, 0.95, 0.95, 0.95]


def quake_bulletins() -> list[dict[str, str]]:
    """Four quakes in four cities of one country, two days apart, each reported in two
    wordings of one template."""
    rows = []
    for i, (city, mag, depth) in enumerate([("Sendai", "6.1", 10), ("Fukushima", "5.4", 35),
                                            ("Kushiro", "4.8", 60), ("Nagasaki", "5.9", 20)]):
        day = (dt.date(2025, 3, 3) + dt.timedelta(days=2 * i)).isoformat()
        rows += [
            {"id": f"q{i}-a", "published": day, "lang": "en", "text": (
                f"A magnitude {mag} earthquake struck near {city}, Japan, the national "
                f"seismological agency said. The quake hit at a depth of {depth} kilometres. "
                "There were no immediate reports of damage or casualties.")},
            {"id": f"q{i}-b", "published": day, "lang": "en", "text": (
                f"An earthquake of magnitude {mag} shook the area around {city}, Japan, the "
                f"national seismological agency said. It struck {depth} kilometres deep. "
                "No damage or casualties were reported at once.")},
        ]
    return rows


def test_bulletins_of_one_template_about_different_cities_are_different_events(  # type: ignore[no-untyped-def]
    tmp_path: Path, encoder
) -> None:
    # they share the country and every word around it; before the specific-entity cap the
    # four quakes were one event
    path = tmp_path / "quakes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in quake_bulletins()))
    pipe = Pipeline(str(tmp_path / "q.db"), encoder=encoder, second=False)
    report = pipe.run([str(path)])
    event = {a.article_id: a.event for a in report.assignments}
    assert len(set(event.values())) == 4, event
    assert all(event[f"q{i}-a"] == event[f"q{i}-b"] for i in range(4))
    from storyline.explain import Explainer, pair_lines

    why = Explainer.for_pipeline(pipe).pair("q0-a", "q1-a")
    assert why["names_disjoint"] and why["probability"] <= 0.2
    said = [line for line in pair_lines(why) if "none in common" in line]
    assert said and "a person, organisation or place (a country aside)" in said[0]
    # a pair that names one thing each, nothing else, is capped for that thing, not for "2+"
    from storyline.cluster.pairs import FEATURES, disjoint_names, names_apart

    row = np.array([[why["features"][f] for f in FEATURES]])  # (rounded to 4 places)
    cols = [FEATURES.index(f) for f in ("names_shared", "names_min", "specific_shared", "specific_min")]
    row[0, cols] = 0.0, np.log1p(1), 0.0, np.log1p(1)
    assert disjoint_names(row)[0] and not names_apart(row)[0]
    assert not why["names_disjoint_two"]


def test_one_rounds_different_matches_are_different_events(tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    from storyline.explain import Explainer, pair_lines

    path = tmp_path / "round.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in match_reports(4)))  # one day, 4 matches
    pipe = Pipeline(str(tmp_path / "r.db"), encoder=encoder, second=False)
    report = pipe.run([str(path)])
    assert len({a.event for a in report.assignments}) == 4
    why = Explainer.for_pipeline(pipe).pair("match-000", "match-001")
    assert why["names_disjoint"] and why["probability"] <= 0.2
    assert any("none in common" in line for line in pair_lines(why))


def test_same_template_reports_of_different_weeks_stay_apart(tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    """Six rounds, one a week, eight teams: every team plays every week, so a report shares a
    team (and its city) with reports of the weeks before and after, and the texts are one
    template. Each match is its own event: a report never joins one of another week."""
    rows = match_reports(24)
    path = tmp_path / "weeks.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = Pipeline(str(tmp_path / "w.db"), encoder=encoder, second=False).run([str(path)])
    day = {r["id"]: r["published"] for r in rows}
    days: dict[str, set[str]] = {}
    for a in report.assignments:
        days.setdefault(a.event, set()).add(day[a.article_id])
    assert all(len(d) == 1 for d in days.values()), sorted(map(sorted, days.values()))
