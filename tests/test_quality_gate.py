"""Quality gate: cluster the labelled dev sets and fail when a metric drops below its floor.

Floors live in tests/eval_baseline.json and only move up. Runs the product's online mode
(``Pipeline.run``, with its repair pass) on a fresh store, exactly like ``storyline eval``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.evaluate import evaluate, load_articles, load_gold, shared_data_dir
from storyline.run.pipeline import Pipeline

BASELINE = json.loads((Path(__file__).parent / "eval_baseline.json").read_text())
DATA = shared_data_dir()

pytestmark = pytest.mark.slow


@pytest.mark.skipif(DATA is None, reason="../shared/data not found (set STORYLINE_SHARED)")
@pytest.mark.parametrize("name", sorted(BASELINE))
def test_quality_floor(name: str, tmp_path: Path) -> None:
    assert DATA is not None
    articles = DATA / f"{name}.jsonl"
    gold = load_gold(DATA / f"{name}.gold.jsonl")
    langs = {r["id"]: r.get("lang") or "und" for r in load_articles(articles)}
    pipe = Pipeline(tmp_path / "gate.db")
    report = pipe.run([str(articles)])
    pred = {a.article_id: a.event for a in report.assignments}
    result = evaluate(pred, gold, langs)
    print(name, json.dumps({k: result[k] for k in ("bcubed", "pairwise", "ari", "ami")}))
    floors = BASELINE[name]
    measured = {
        "bcubed_f1": result["bcubed"]["f1"],
        "bcubed_p": result["bcubed"]["p"],
        "bcubed_r": result["bcubed"]["r"],
        "ari": result["ari"],
    }
    if "cross_lingual_recall" in floors:
        measured["cross_lingual_recall"] = result["cross_lingual"]["overall"]
    if "family_bcubed_f1" in floors:  # WMT gold clusters are an article and its translations
        families = {a.article_id: a.family for a in report.assignments}
        measured["family_bcubed_f1"] = evaluate(families, gold, langs)["bcubed"]["f1"]
    low = {k: (round(measured[k], 4), v) for k, v in floors.items() if measured[k] < v}
    assert not low, f"{name}: below floor (measured, floor): {low}"
