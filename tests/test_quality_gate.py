"""Quality gate: out-of-sample floors, the seeds exact, and regression floors.

1. **Out-of-sample figures** live in ``src/storyline/data/scorer.json``, written by
   ``scripts/train_scorer.py`` together with the shipped model: grouped cross-validation (folds
   by ECB+ topic, gva incident, WMT / MEANTIME event; the other sets in training) and
   leave-one-corpus-out, thresholds chosen on the other sets, beside simple baselines scored
   the same way. The gate checks the report belongs to the shipped model (its sha256) and that
   every figure is at or above its floor in ``tests/eval_baseline.json`` (``out_of_sample``).
   Floors only move up.
2. **Regression floors** (``in_sample``): the shipped pipeline on the dev sets it was fitted
   on. These are not quality claims; they catch a code change that breaks what the model was
   trained for, between two trainings.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import pytest

from storyline.evaluate import evaluate, load_articles, load_gold, shared_data_dir
from storyline.run.pipeline import Pipeline

BASELINE = json.loads((Path(__file__).parent / "eval_baseline.json").read_text())
DATA = shared_data_dir()
REPORT = json.loads((resources.files("storyline") / "data" / "scorer.json").read_text())


def test_the_report_belongs_to_the_shipped_model() -> None:
    shipped = (resources.files("storyline") / "data" / "scorer.npz").read_bytes()
    assert REPORT.get("model_sha256") == hashlib.sha256(shipped).hexdigest(), (
        "scorer.json was not written with the shipped scorer.npz: rerun scripts/train_scorer.py"
    )


@pytest.mark.parametrize("how", ["grouped_cv", "leave_one_corpus_out"])
@pytest.mark.parametrize("name", sorted(BASELINE["out_of_sample"]))
def test_out_of_sample_floor(name: str, how: str) -> None:
    floors = BASELINE["out_of_sample"][name][how]
    got = REPORT[how][name]
    measured = {"bcubed_f1": got["f1"], "bcubed_p": got["p"], "bcubed_r": got["r"]}
    for pair, recall in got.get("translation_recall", {}).items():
        measured[f"translation_recall_{pair}"] = recall
    low = {k: (measured.get(k), v) for k, v in floors.items() if measured.get(k, -1) < v}
    assert not low, f"{name} {how}: below floor (measured, floor): {low}"


@pytest.mark.parametrize("name", sorted(BASELINE["out_of_sample"]))
def test_baselines_are_reported_beside_storyline(name: str) -> None:
    for how in ("grouped_cv", "leave_one_corpus_out"):
        rows = REPORT["baselines"][name][how]
        assert {"tfidf", "tfidf_7d", "use", "use_7d", "e5", "e5_7d"} <= set(rows)
        assert all(0.0 <= r["f1"] <= 1.0 for r in rows.values())


@pytest.mark.slow
@pytest.mark.skipif(DATA is None, reason="../shared/data not found (set STORYLINE_SHARED)")
@pytest.mark.parametrize("name", sorted(BASELINE["in_sample"]))
def test_regression_floor(name: str, tmp_path: Path) -> None:
    assert DATA is not None
    articles = DATA / f"{name}.jsonl"
    gold = load_gold(DATA / f"{name}.gold.jsonl")
    langs = {r["id"]: r.get("lang") or "und" for r in load_articles(articles)}
    pipe = Pipeline(tmp_path / "gate.db")
    report = pipe.run([str(articles)])
    pred = {a.article_id: a.event for a in report.assignments}
    result = evaluate(pred, gold, langs)
    print(name, json.dumps({k: result[k] for k in ("bcubed", "pairwise", "ari", "ami")}))
    floors = BASELINE["in_sample"][name]
    measured = {"bcubed_f1": result["bcubed"]["f1"], "bcubed_p": result["bcubed"]["p"],
                "bcubed_r": result["bcubed"]["r"], "ari": result["ari"]}
    if "cross_lingual_recall" in floors:
        measured["cross_lingual_recall"] = result["cross_lingual"]["overall"]
    low = {k: (round(measured[k], 4), v) for k, v in floors.items() if measured[k] < v}
    assert not low, f"{name}: below floor (measured, floor): {low}"
