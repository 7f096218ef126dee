"""Fit the linear map from the second encoder's space (e5) to the sentence encoder's (USE).

    python scripts/featurize_dev.py                  # features of every dev article, cached
    python scripts/train_second_map.py [--feats /tmp/storyline-feats]

An article in a language the sentence encoder lacks looks for candidate events through its
second-encoder vector. Mapped into the sentence encoder's space, that vector is searched in
the clusterer's own centroid index, so no event ever needs a second-encoder vector of its
own. The map is a ridge regression from e5 vectors of the first 100 characters of the lead
(what the query reads) to USE document vectors, over articles both encoders cover.

It reports, leave-WMT-out (the map fitted without WMT21 dev), how often an uncovered
article of WMT21 dev (Icelandic) has a covered version of its own document among its 10
nearest articles: by the mapped vector in USE space, and by e5 cosine to each article's own
100-character e5 vector (what a per-event second-encoder index would find). Writes
``src/storyline/data/second_map.npz`` (float16).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from storyline.represent.encoder import E5Encoder

CHARS = 100  # OnlineClusterer.second_rep_chars
LAMBDA = 0.1
CAP = 1500  # articles of a set at most (gva_dev has 3,373 English ones)
SETS = ("gva_dev", "ecbplus_dev", "meantime_dev", "wmt21_dev")


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.solve(x.T @ x + LAMBDA * np.eye(x.shape[1]), x.T @ y)


def recall_at(w: np.ndarray, feats, gold, e5v: np.ndarray, k: int = 10) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    docs = np.stack([f.doc for f in feats]).astype(np.float32)
    hits_map, hits_e5 = [], []
    for i, f in enumerate(feats):
        if f.covered:
            continue
        same = {j for j, g in enumerate(feats) if j != i and g.covered and gold[g.id] == gold[f.id]}
        if not same:
            continue
        q = e5v[i] @ w
        s_map = docs @ (q / np.linalg.norm(q))
        s_e5 = e5v @ e5v[i]
        s_map[i] = s_e5[i] = -9.0
        hits_map.append(bool(set(np.argsort(-s_map)[:k].tolist()) & same))
        hits_e5.append(bool(set(np.argsort(-s_e5)[:k].tolist()) & same))
    return float(np.mean(hits_map)), float(np.mean(hits_e5)), len(hits_map)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feats", default="/tmp/storyline-feats")
    ap.add_argument("--out", default=str(ROOT / "src/storyline/data/second_map.npz"))
    args = ap.parse_args()
    e5 = E5Encoder()
    rng = np.random.default_rng(0)
    xs, ys, wmt = {}, {}, None
    for name in SETS:
        d = pickle.loads((Path(args.feats) / f"{name}.pkl").read_bytes())
        feats = d["feats"]
        if name == "wmt21_dev":
            wmt = (feats, d["gold"], e5.encode([f.second_text[:CHARS] or " " for f in feats]))
            keep = [i for i, f in enumerate(feats) if f.covered]
            xs[name], ys[name] = wmt[2][keep], np.stack([feats[i].doc for i in keep]).astype(np.float32)
            continue
        covered = [f for f in feats if f.covered]
        if len(covered) > CAP:
            covered = [covered[i] for i in sorted(rng.choice(len(covered), CAP, replace=False))]
        xs[name] = e5.encode([f.second_text[:CHARS] or " " for f in covered])
        ys[name] = np.stack([f.doc for f in covered]).astype(np.float32)
        print(name, len(covered), "articles", flush=True)
    assert wmt is not None
    others = [n for n in SETS if n != "wmt21_dev"]
    w_loco = fit(np.concatenate([xs[n] for n in others]), np.concatenate([ys[n] for n in others]))
    by_map, by_e5, n = recall_at(w_loco, *wmt)
    report = {"wmt21_dev_uncovered_recall_at_10": {"mapped_into_use": round(by_map, 3),
              "e5_per_article": round(by_e5, 3), "n": n, "map_fitted_without_wmt21": True},
              "chars": CHARS, "lambda": LAMBDA, "articles": {k: len(v) for k, v in xs.items()}}
    print(json.dumps(report, indent=1))
    w = fit(np.concatenate(list(xs.values())), np.concatenate(list(ys.values())))
    np.savez_compressed(args.out, W=w.astype(np.float16), chars=np.array(CHARS),
                        report=np.array(json.dumps(report)))
    print("wrote", args.out, w.shape)


if __name__ == "__main__":
    main()
