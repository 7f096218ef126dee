"""The shipped scorer's out-of-sample report (``data/scorer.json``), for ``storyline eval``.

The scorer is fitted on every development set, so a dev set clustered by the shipped model is
scored in-sample. Its honest figures are those measured when the set was held out; this
module finds them by set name.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["out_of_sample", "set_name"]


def set_name(gold_path: str | Path) -> str:
    """``…/ecbplus_dev.gold.jsonl`` → ``ecbplus_dev``."""
    return Path(gold_path).name.removesuffix(".jsonl").removesuffix(".gold")


def out_of_sample(name: str) -> dict[str, Any] | None:
    """Grouped-CV and leave-one-corpus-out figures of set ``name`` and its baselines, or None
    when the shipped model was not fitted (and measured) on it."""
    ref = resources.files("storyline") / "data" / "scorer.json"
    if not ref.is_file():
        return None
    report = json.loads(ref.read_text())
    if name not in report.get("grouped_cv", {}):
        return None
    base = report.get("baselines", {}).get(name, {})
    return {
        "grouped_cv": report["grouped_cv"][name],
        "leave_one_corpus_out": report["leave_one_corpus_out"][name],
        "best_baseline": {
            how: max(((k, v["f1"]) for k, v in rows.items()), key=lambda kv: kv[1], default=None)
            for how, rows in base.items()
        },
    }
