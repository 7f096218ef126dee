"""Publication-date parsing and event-date estimation."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from storyline.prepare.dates import estimate_event_date, find_dateline, parse_date

D = dt.date
TODAY = D(2026, 11, 26)


def _shared_data() -> Path | None:
    """The shared folder with the dev sets (``../shared`` or ``$STORYLINE_SHARED``)."""
    for cand in (Path(__file__).resolve().parents[2] / "shared", os.environ.get("STORYLINE_SHARED")):
        if cand and (Path(cand) / "data" / "ecbplus_dev.jsonl").is_file():
            return Path(cand)
    return None


def _shared() -> Path:
    """The bundled seeds (``tests/data/seeds``): seed tests run on any clone."""
    return Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-06-11", (D(2020, 6, 11), "day")),
        ("2020-06-11T23:59:00+02:00", (D(2020, 6, 11), "day")),
        ("2024-01", (D(2024, 1, 1), "month")),
        ("2024", (D(2024, 1, 1), "year")),
        ("Thu, 11 Jun 2020 10:00:00 GMT", (D(2020, 6, 11), "day")),
        ("June 11, 2020", (D(2020, 6, 11), "day")),
        ("11 juin 2020", (D(2020, 6, 11), "day")),
        ("2020-13-45", (None, "none")),
        ("someday", (None, "none")),
        (None, (None, "none")),
        ("", (None, "none")),
    ],
)
def test_parse_date(value: str | None, expected: tuple[D | None, str]) -> None:
    assert parse_date(value) == expected


def est(text: str, published: D | None = None, precision: str = "day") -> D | None:
    return estimate_event_date(text, None, published, precision, today=TODAY)[0]


def test_weekday_day_month_with_publication() -> None:
    assert est("The US said on Thursday (June 11th) it would cut troops.", D(2020, 6, 12)) == D(
        2020, 6, 11
    )
    assert est("Les deux pays se sont réunis jeudi 11 juin.", D(2020, 6, 11)) == D(2020, 6, 11)
    assert est("Am Donnerstag, 11. Juni, trafen sich beide.", D(2020, 6, 13)) == D(2020, 6, 11)
    assert est("El jueves 11 de junio se reunieron.", D(2020, 6, 12)) == D(2020, 6, 11)


def test_day_month_resolved_before_publication() -> None:
    assert est("Le gouvernement a parlé ce 27 janvier.", D(2024, 1, 1), "month") == D(2024, 1, 27)
    assert est("The vote on December 30 was close.", D(2021, 1, 2)) == D(2020, 12, 30)
    assert est("会談は6月11日に行われた。", D(2020, 6, 12)) == D(2020, 6, 11)
    assert est("Встреча состоялась 11 июня.", D(2020, 6, 12)) == D(2020, 6, 11)


def test_relative_words_need_a_publication_day() -> None:
    assert est("Washington avait confirmé l'avant-veille le lancement.", D(2024, 1, 27)) == D(
        2024, 1, 25
    )
    assert est("The minister resigned yesterday.", D(2020, 6, 12)) == D(2020, 6, 11)
    assert est("Gestern trat der Minister zurück.", D(2020, 6, 12)) == D(2020, 6, 11)
    assert est("Rockets hit the base on Monday.", D(2020, 6, 11)) == D(2020, 6, 8)
    assert est("They will meet next Monday.", D(2020, 6, 11)) == D(2020, 6, 11)  # published
    assert est("The minister resigned yesterday.") is None
    assert est("Hier, le ministre a démissionné.", D(2024, 1, 1), "month") == D(2024, 1, 1)


def test_background_and_future_dates_do_not_win() -> None:
    text = "Talks opened on Thursday, June 11. Tensions had grown since 3 January 2020."
    assert est(text, D(2020, 6, 12)) == D(2020, 6, 11)
    assert est("A summit is planned for 20 July.", D(2020, 6, 12)) == D(2020, 6, 12)
    assert est("He was born on April 22, 1923 and died on Monday.", D(2013, 6, 7)) == D(2013, 6, 3)


def test_without_publication_date() -> None:
    # Thursday, June 11 is 2020 (and 2026, 2015...); the text mentions 2008 as the past.
    text = "The countries meet this Thursday, June 11. The last dialogue was in 2008."
    assert estimate_event_date(text, "en", None, today=TODAY) == (
        D(2020, 6, 11),
        "text:Thursday, June 11",
    )
    # no year anywhere: 2026, 2020, 2015 ... all fit; guessing the latest dated an undated
    # 2020 report "Sunday, July 26" to 2026, so the date stays unknown
    assert est("Talks open on Thursday, June 11.") is None
    assert est("Evacuation flights landed on Sunday, July 26.") is None
    assert est("The quake struck on 3 January 2020 near the coast.") == D(2020, 1, 3)
    # a matching year the text itself names wins over a later one that also fits
    text = "Mnuchin spoke on Sunday, July 26. About $3 tln was disbursed in 2020 so far."
    assert est(text) == D(2020, 7, 26)
    assert est("Nothing dated here at all.") is None
    assert estimate_event_date("No date.", "en", None) == (None, None)


def test_dateline_used_as_publication() -> None:
    text = "PUBLISHED: 22:07 GMT, 7 July 2012\nKlitschko stopped Thompson on Saturday."
    assert find_dateline(text) == (D(2012, 7, 7), "PUBLISHED: 22:07 GMT, 7 July 2012")
    assert est(text) == D(2012, 7, 7)
    assert est("March 8, 2013 5:47 PM\nThe storm hit the city on Wednesday.") == D(2013, 3, 6)
    assert est("Posted 11 / 27 / 2005 7:21 AM\nA fire broke out.") == D(2005, 11, 27)
    assert find_dateline("Page was born on April 22, 1923, in Nashville, Tennessee.") is None


def test_seeds() -> None:
    shared = _shared()
    if shared is None:
        pytest.skip("shared seeds not found (../shared or $STORYLINE_SHARED)")
    from storyline.ingest import read_inputs
    from storyline.model import Article

    got = {}
    for a in read_inputs([str(shared / "seeds")]):
        assert isinstance(a, Article)
        got[a.id[:3]] = estimate_event_date(
            a.text, a.lang, a.published, a.published_precision, today=TODAY
        )
    assert got["000"][0] == D(2020, 6, 11)
    assert got["001"][0] == D(2020, 6, 11)
    assert got["002"][0] == D(2020, 6, 11)
    assert got["003"] == (D(2024, 1, 27), "text:27 janvier")
    assert got["004"][0] is None or (got["004"][0].year, got["004"][0].month) == (2020, 6)


def test_speed() -> None:
    shared = _shared_data()
    if shared is None:
        pytest.skip("shared data not found")
    import json

    with open(shared / "data" / "ecbplus_dev.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(ln)["text"] for ln in fh][:200]
    t0 = time.perf_counter()
    for t in texts:
        estimate_event_date(t, "en", None)
    assert (time.perf_counter() - t0) / len(texts) < 0.005


def test_name_tries_match_as_flat_alternations() -> None:
    import random
    import re

    from storyline.prepare import dates

    def flat(names: dict[str, int]) -> str:
        return "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))

    rng = random.Random(5)
    names = [*dates._MONTHS, *dates._WEEKDAYS]
    texts = [
        " ".join(rng.choice([*names, *(n.upper() for n in names), str(rng.randint(1, 31)), "de", ",", "x"])
                 + rng.choice(["", ".", "s", "o"]) for _ in range(12))
        for _ in range(400)
    ]
    for table in (dates._MONTHS, dates._WEEKDAYS):
        for tail in (r"\b", r"\.?\s+(?P<d>\d+)", ""):
            a = re.compile(f"(?:{flat(table)}){tail}", re.IGNORECASE)
            b = re.compile(f"(?:{dates._alt(table)}){tail}", re.IGNORECASE)
            for t in texts:
                assert [m.span() for m in a.finditer(t)] == [m.span() for m in b.finditer(t)], t


def test_relative_words_in_any_case() -> None:
    from storyline.prepare.dates import _mentions

    got = {t: [(m.offset, m.surface) for m in _mentions(t) if m.kind == "rel"]
           for t in ("Вчера в Москве", "VORGESTERN", "l’altro ieri", "一昨日の東京", "HIER SOIR", "hierarchy")}
    assert got == {
        "Вчера в Москве": [(1, "Вчера")], "VORGESTERN": [(2, "VORGESTERN")],
        "l’altro ieri": [(2, "l’altro ieri")], "一昨日の東京": [(2, "一昨日")],
        "HIER SOIR": [(1, "HIER")], "hierarchy": [],
    }

