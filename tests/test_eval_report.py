"""Evaluation report, error analysis and loaders (hand-made data, plus the shared dev sets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.errors import InputError
from storyline.evaluate import (
    error_analysis,
    evaluate,
    format_table,
    load_articles,
    load_dataset,
    load_gold,
    load_predictions,
    shared_data_dir,
)

GOLD = {"a": "quake", "b": "quake", "c": "quake", "d": "summit", "e": "summit", "f": "flood"}
LANGS = {"a": "en", "b": "fr", "c": "ja", "d": "en", "e": "de", "f": "en"}
ARTICLES = {
    "a": {"id": "a", "title": "Earthquake hits Chile", "lang": "en", "published": "2024-01-02"},
    "b": {"id": "b", "title": "Séisme au Chili", "lang": "fr", "published": "2024-01-02"},
    "c": {"id": "c", "text": "チリで地震 " * 40, "lang": "ja"},
    "d": {"id": "d", "title": "Leaders meet in Geneva", "lang": "en", "published": "2024-03-01"},
    "e": {"id": "e", "title": "Gipfel in Genf", "lang": "de", "published": "2024-03-01"},
    "f": {"id": "f", "title": "Floods in Valencia", "lang": "en", "published": "2024-10-30"},
}
# The summit is merged with the flood; the quake is split (its Japanese article alone).
PRED = {"a": "p1", "b": "p1", "c": "p2", "d": "p3", "e": "p3", "f": "p3"}


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_evaluate_is_json_serialisable_with_all_keys() -> None:
    result = evaluate(PRED, GOLD, LANGS)
    assert json.loads(json.dumps(result)) == result
    assert set(result["bcubed"]) == {"p", "r", "f1"} == set(result["pairwise"])
    assert (result["n_gold"], result["n_pred"], result["n_items"]) == (3, 3, 6)
    assert result["singleton_share"] == pytest.approx(1 / 3)
    assert result["per_language"]["en"]["n"] == 3
    assert set(result["per_language"]) == {"de", "en", "fr", "ja"}
    cross = result["cross_lingual"]
    assert cross["pairs"] == {"de-en": 1.0, "en-fr": 1.0, "en-ja": 0.0, "fr-ja": 0.0}
    assert cross["overall"] == pytest.approx(2 / 4)


def test_evaluate_without_languages() -> None:
    result = evaluate(GOLD, GOLD)
    assert result["bcubed"] == {"p": 1.0, "r": 1.0, "f1": 1.0}
    assert result["ari"] == pytest.approx(1.0) and result["ami"] == pytest.approx(1.0)
    assert result["per_language"] == {}
    assert result["cross_lingual"] == {"overall": None, "pairs": {}}


def test_format_table_mentions_every_section() -> None:
    table = format_table(evaluate(PRED, GOLD, LANGS))
    for needle in ("B3", "pairwise", "ARI", "AMI", "ja", "cross-lingual", "en-fr"):
        assert needle in table
    assert "cross-lingual" not in format_table(evaluate(PRED, GOLD))


def test_error_analysis_lists_merges_and_splits_worst_first() -> None:
    report = error_analysis(PRED, GOLD, ARTICLES, top=5)
    merges, splits = report.split("## Worst splits")
    assert "### Predicted `p3`: 3 articles, 2 gold events, 2 wrong pairs" in merges
    assert "Leaders meet in Geneva" in merges and "Floods in Valencia" in merges
    assert "2024-10-30 [en]" in merges
    assert "### Gold `quake`: 3 articles in 2 predicted clusters, 2 missed pairs" in splits
    assert "チリで地震" in splits and "…" in splits  # long text cut to a snippet
    assert "2 wrong pairs from over-merges, 2 missed pairs from splits" in report


def test_error_analysis_orders_by_cost_and_handles_unassigned() -> None:
    gold = {f"x{i}": "big" for i in range(6)} | {"y0": "small", "y1": "small"}
    pred = {"x0": "A", "x1": "A", "x2": "A", "x3": "B", "y0": "C"}  # x4, x5, y1 unassigned
    report = error_analysis(pred, gold, {}, top=1)
    assert report.count("### Gold") == 1
    assert "### Gold `big`" in report  # 15 - 3 = 12 missed pairs beats small's 1
    assert "(unassigned) x4" in report
    assert "No predicted cluster mixes gold events." in report
    assert "(no text)" in report
    perfect = error_analysis(GOLD, GOLD, ARTICLES)
    assert "No gold event is split." in perfect


def test_loaders_accept_event_and_event_id(tmp_path: Path) -> None:
    arts = _write_jsonl(tmp_path / "a.jsonl", [{"id": 1, "text": "t"}, {"id": "b", "text": "u"}])
    assert [a["id"] for a in load_articles(arts)] == ["1", "b"]
    gold = _write_jsonl(
        tmp_path / "g.jsonl", [{"id": "a", "event": "e1"}, {"id": "b", "event_id": 2}]
    )
    assert load_gold(gold) == {"a": "e1", "b": "2"}
    out = [
        {"id": "a", "event": "ev-1", "story": "st-1", "family": "fa-1", "lang": "en", "score": 0.9},
        {"id": "b", "event_id": "ev-2"},
    ]
    assert load_predictions(_write_jsonl(tmp_path / "p.jsonl", out)) == {"a": "ev-1", "b": "ev-2"}


def test_loaders_report_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "event": "x"}\n\nnot json\n', "utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:3"):
        load_gold(bad)
    with pytest.raises(InputError, match="missing 'event'"):
        load_gold(_write_jsonl(tmp_path / "n.jsonl", [{"id": "a"}]))
    with pytest.raises(InputError, match="two different events"):
        load_gold(
            _write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "event": 1}, {"id": "a", "event": 2}])
        )
    with pytest.raises(InputError, match="cannot read"):
        load_articles(tmp_path / "absent.jsonl")
    with pytest.raises(InputError):
        load_dataset("absent", data_dir=tmp_path)


def test_shared_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("STORYLINE_SHARED", str(tmp_path))
    assert shared_data_dir() == (tmp_path / "data").resolve()


def _data_dir() -> Path:
    folder = shared_data_dir()
    if folder is None or not (folder / "ecbplus_dev.gold.jsonl").exists():
        pytest.skip("shared dev data not found: set STORYLINE_SHARED or put it in ../shared/data")
    return folder


@pytest.mark.parametrize(
    ("name", "singleton_f1", "n_articles"),
    [("ecbplus_dev", 0.164, 651), ("wmt21_dev", 0.589, 518), ("seeds", None, 5)],
)
def test_shared_dev_sets(name: str, singleton_f1: float | None, n_articles: int) -> None:
    # the seeds are bundled (tests/data); the other dev sets come from the shared folder
    folder = Path(__file__).resolve().parent / "data" if name == "seeds" else _data_dir()
    articles, gold = load_dataset(name, folder)
    assert len(articles) == len(gold) == n_articles
    langs = {a["id"]: a["lang"] for a in articles}
    perfect = evaluate(gold, gold, langs)
    assert perfect["bcubed"]["f1"] == perfect["pairwise"]["f1"] == 1.0
    assert perfect["ari"] == pytest.approx(1.0) and perfect["ami"] == pytest.approx(1.0)
    assert perfect["cross_lingual"]["overall"] in (None, 1.0)
    if singleton_f1 is not None:
        singletons = evaluate({}, gold, langs)
        assert singletons["bcubed"]["p"] == 1.0
        assert singletons["bcubed"]["f1"] == pytest.approx(singleton_f1, abs=0.001)
