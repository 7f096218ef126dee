"""``storyline events`` / ``stories`` listings (order, filters, JSON Lines, display language)
and ``storyline search`` on the bundled sample and the seeds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from test_cli import invoke, one_error_line

IRAQ_2024 = "003_aeab41fca9b751fd"  # the French seed: "Irak", never "Iraq"


@pytest.fixture(autouse=True)
def _cached_encoder(monkeypatch: pytest.MonkeyPatch, encoder) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("storyline.run.pipeline.USEEncoder", lambda *a, **k: encoder)
    monkeypatch.setattr("storyline.describe.search._ENCODERS", {"use-m3": encoder})


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path, encoder) -> Path:  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("browse") / "ex.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("storyline.run.pipeline.USEEncoder", lambda *a, **k: encoder)
        args = ["ingest", str(examples_dir / "news.jsonl"), str(examples_dir / "txt"), "--db", str(db)]
        assert invoke(args).exit_code == 0
    return db


def lines(result) -> list[dict]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.stderr
    return [json.loads(x) for x in result.stdout.splitlines()]


def test_events_newest_first_with_json_lines(sample: Path) -> None:
    evs = lines(invoke(["events", "--db", str(sample), "--json"]))
    dates = [e["date"] for e in evs]
    assert len(evs) == 3 and dates == sorted(dates, reverse=True)
    by_size = lines(invoke(["events", "--db", str(sample), "--json", "--sort", "size"]))
    assert [e["size"] for e in by_size] == sorted((e["size"] for e in evs), reverse=True)
    table = invoke(["events", "--db", str(sample)]).stdout
    assert table.index(evs[0]["id"]) < table.index(evs[-1]["id"])  # the table: same order


def test_events_since_limit_and_lang(sample: Path) -> None:
    since = lines(invoke(["events", "--db", str(sample), "--json", "--since", "2023-08-01"]))
    assert since and all(dt.date.fromisoformat(e["date"]) >= dt.date(2023, 8, 1) for e in since)
    assert len(since) == 2
    assert len(lines(invoke(["events", "--db", str(sample), "--json", "--limit", "1"]))) == 1
    de = lines(invoke(["events", "--db", str(sample), "--json", "--lang", "de"]))
    assert de and all(e["display_lang"] == "de" and "de" in e["languages"] for e in de)
    assert any("Erdbeben" in e["headline"] or "Beben" in e["summary"] for e in de)
    none = lines(invoke(["events", "--db", str(sample), "--json", "--lang", "ja"]))
    assert none == []
    bad = invoke(["events", "--db", str(sample), "--since", "2023-13-01"])
    assert bad.exit_code == 2 and "--since" in bad.stderr


def test_stories_json_and_order(sample: Path) -> None:
    sts = lines(invoke(["stories", "--db", str(sample), "--json"]))
    assert len(sts) == 3
    ends = [s["end"] for s in sts]
    assert ends == sorted(ends, reverse=True)
    fr = lines(invoke(["stories", "--db", str(sample), "--json", "--lang", "fr"]))
    assert all(s["display_lang"] == "fr" for s in fr)


def test_story_headline_and_summary_from_one_language(seeds_db: Path) -> None:
    """The seeds' story: its headline and summary come from one event, in one language."""
    from storyline.store import open_store

    (st,) = lines(invoke(["stories", "--db", str(seeds_db), "--json"]))
    store = open_store(str(seeds_db))
    main = [e for e in store.iter_events() if e.headline == st["headline"]]
    assert len(main) == 1 and st["summary"] == main[0].summary
    assert st["display_lang"] == "en" and "Irak" not in st["summary"]
    (fr,) = lines(invoke(["stories", "--db", str(seeds_db), "--json", "--lang", "fr"]))
    assert fr["display_lang"] == "fr" and "Irak" in fr["headline"] + fr["summary"]
    assert "The United States" not in fr["summary"]


def test_search_iraq_finds_the_french_seed(seeds_db: Path) -> None:
    hits = lines(invoke(["search", "Iraq", "--db", str(seeds_db), "--json"]))
    from storyline.store import open_store

    store = open_store(str(seeds_db))
    french = store.get_assignment(IRAQ_2024)
    assert french is not None
    found = {h["id"]: h for h in hits}
    assert french.event in found and found[french.event]["why"] == "entity"
    assert "Iraq" not in found[french.event]["headline"]
    # without the encoder too (entity keys alone)
    plain = lines(invoke(["search", "Iraq", "--db", str(seeds_db), "--json", "--no-neighbours"]))
    assert french.event in {h["id"] for h in plain}


def test_search_by_meaning_and_nothing(sample: Path) -> None:
    quakes = lines(invoke(["search", "séisme", "--db", str(sample), "--json"]))
    assert len(quakes) == 2  # the French word, both earthquakes (one by text, one by meaning)
    assert {h["why"] for h in quakes} <= {"text", "similar", "entity"}
    out = invoke(["search", "football", "--db", str(sample)])
    assert out.exit_code == 0 and "no events match" in out.stdout
    one_error_line(invoke(["search", "  ", "--db", str(sample)]))


def test_show_lang_changes_every_part_of_the_description(sample: Path) -> None:
    """``show --lang``: headline, summary, keyphrases and entity names in that language."""
    evs = lines(invoke(["events", "--db", str(sample), "--json"]))
    morocco = next(e for e in evs if e["date"].startswith("2023-09"))["id"]
    recs = {}
    for lang in ("en", "fr", "de"):
        out = invoke(["show", morocco, "--db", str(sample), "--json", "--lang", lang])
        assert out.exit_code == 0, out.stderr
        recs[lang] = json.loads(out.stdout)
        assert recs[lang]["display_lang"] == lang and not recs[lang]["display_fallback"]
    names = {la: {e["name"] for e in r["entities"]} for la, r in recs.items()}
    assert "Morocco" in names["en"] and "Maroc" in names["fr"] and "Marokko" in names["de"]
    assert not names["en"] & {"Marokko", "Maroc", "Catar", "Katar", "États-Unis", "Marruecos"}
    assert recs["en"]["keyphrases"] != recs["fr"]["keyphrases"]
    assert recs["en"]["headline"] != recs["de"]["headline"]
    ja = invoke(["show", morocco, "--db", str(sample), "--lang", "ja"])
    assert "(no article in ja: described in" in ja.stdout
