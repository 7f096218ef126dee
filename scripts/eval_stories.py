"""Events and stories of a dated dev set through the whole pipeline, out-of-sample.

    python scripts/train_scorer.py --no-ship     # writes FEATS/loco-NAME.npz
    python scripts/eval_stories.py gva_dev [--feats /tmp/storyline-feats]

The pair scorer is the leave-one-corpus-out model of the set (fitted without it), so the event
figures are out-of-sample; the story linker is not fitted on any dev set. Runs
``Pipeline.run`` on a copy of the feature cache's store (vectors already computed) and scores
events (gold ``event``) and stories (gold ``story``, for gva the incident) with B³, beside two
baselines: every event its own story, and one story per gold topic.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from storyline.cluster.scorer import PairScorer, TreeModel
from storyline.evaluate.datasets import load_articles, shared_data_dir
from storyline.evaluate.metrics import bcubed
from storyline.run.pipeline import Pipeline


def prf(pred: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    b = bcubed(pred, gold)
    return {"f1": round(b.f1, 4), "p": round(b.precision, 4), "r": round(b.recall, 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name", nargs="?", default="gva_dev")
    ap.add_argument("--feats", default="/tmp/storyline-feats")
    ap.add_argument("--model", default=None, help="scorer .npz (default: FEATS/loco-NAME.npz)")
    args = ap.parse_args()
    data = shared_data_dir()
    assert data is not None, "shared data not found"
    feats = Path(args.feats)
    model, meta = TreeModel.load(args.model or feats / f"loco-{args.name}.npz")
    scorer = PairScorer(model=model)
    scorer.meta = meta
    gold_rows = {r["id"]: r for r in load_articles(data / f"{args.name}.gold.jsonl")}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "run.db"
        shutil.copy(feats / "vectors.db", db)
        t = time.time()
        report = Pipeline(str(db), scorer=scorer, offload=False).run([str(data / f"{args.name}.jsonl")])
        took = time.time() - t
    events = {a.article_id: a.event for a in report.assignments}
    stories = {a.article_id: a.story for a in report.assignments}
    gold_event = {i: r["event"] for i, r in gold_rows.items()}
    gold_story = {i: r.get("story", r["event"]) for i, r in gold_rows.items()}
    out = {
        "set": args.name,
        "articles": len(events),
        "seconds": round(took, 1),
        "events": prf(events, gold_event),
        "stories": prf(stories, gold_story),
        "stories_baselines": {
            "every_event_its_own_story": prf(events, gold_story),
            "one_story_per_topic": prf({i: gold_rows[i].get("topic", "") for i in events}, gold_story),
        },
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
