"""Pick the online clusterer's join and merge thresholds on the dev sets.

    python scripts/tune_thresholds.py [--data ../shared/data] [--cache /tmp/storyline-train.db]

Runs the product's online clusterer (``cluster_batch``: learn_one over date-sorted input,
then repair) with the shipped scorer for a grid of thresholds and prints B³ F1 per dev set.
Vectors come from the cache that ``train_scorer.py`` fills, so a run takes a few minutes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_scorer import featurize, load

from storyline.cluster.batch import cluster_batch
from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.evaluate.metrics import bcubed
from storyline.represent.encoder import LazySecondVectors
from storyline.store import open_store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--cache", default="/tmp/storyline-train.db")
    ap.add_argument("--join", default="0.35,0.4,0.45,0.5")
    ap.add_argument("--merge", default="0.4,0.5")
    args = ap.parse_args()
    store = open_store(args.cache)
    sets = {}
    for name in ("ecbplus_dev", "wmt21_dev", "seeds"):
        arts, gold = load(Path(args.data), name)
        sets[name] = (featurize(arts, store), gold)
    scorer = PairScorer(second=LazySecondVectors(store=store))
    for j in [float(x) for x in args.join.split(",")]:
        for m in [float(x) for x in args.merge.split(",")]:
            row = []
            for name, (feats, gold) in sets.items():
                pred = cluster_batch(OnlineClusterer(scorer, threshold=j, merge_threshold=m), feats)
                row.append(f"{name} {bcubed(pred, gold).f1:.4f}")
            print(f"join {j:.2f} merge {m:.2f}: " + "  ".join(row), flush=True)


if __name__ == "__main__":
    main()
