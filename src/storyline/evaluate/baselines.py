"""Simple baselines, scored the way storyline's out-of-sample figures are.

Each baseline is a cosine similarity between article vectors — TF-IDF of title and text
(fitted on the set itself, no labels), multilingual USE (the mean sentence vector storyline
computes anyway) or e5 (of the lead) — clustered by average-link agglomeration, with and
without a 7-day window (pairs published more than 7 days apart get the largest distance).
The one free parameter, the cut, is chosen where the figure is not measured: on the training
folds for grouped cross-validation, on the other sets for leave-one-corpus-out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .metrics import bcubed

__all__ = ["BASELINES", "CUTS", "average_link", "run_baselines", "similarity_matrix"]

BASELINES = ["tfidf", "tfidf_7d", "use", "use_7d", "e5", "e5_7d"]
CUTS = np.round(np.arange(0.05, 0.96, 0.025), 3)
WINDOW_DAYS = 7


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def similarity_matrix(kind: str, d: Mapping[str, Any]) -> np.ndarray:
    """Cosine similarities of a set's articles (``d`` as written by scripts/featurize_dev.py)."""
    feats = d["feats"]
    base = kind.removesuffix("_7d")
    if base == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = [f"{d['meta'][f.id]['title'] or ''}\n{d['meta'][f.id]['text']}" for f in feats]
        x = TfidfVectorizer(sublinear_tf=True).fit_transform(docs)
        sim = (x @ x.T).toarray()
    elif base == "use":
        v = _unit(np.stack([f.doc for f in feats]))
        sim = v @ v.T
    elif base == "e5":
        v = _unit(np.stack([d["e5"][f.id] for f in feats]))
        sim = v @ v.T
    else:
        raise ValueError(f"unknown baseline {kind!r}")
    if kind.endswith("_7d"):
        days = np.array([_ordinal(d["meta"][f.id]["published"]) for f in feats], np.float64)
        far = np.abs(days[:, None] - days[None, :]) > WINDOW_DAYS  # NaN (no date): not far
        sim = np.where(far, -1.0, sim)
    return sim


def _ordinal(day: dt.date | None) -> float:
    return float(day.toordinal()) if day is not None else float("nan")


def average_link(sim: np.ndarray, cuts: Sequence[float]) -> list[np.ndarray]:
    """Cluster labels at each cut (join while the mean similarity between clusters ≥ cut)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = len(sim)
    if n < 2:
        return [np.zeros(n, np.int64) for _ in cuts]
    dist = np.clip(1.0 - sim, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform((dist + dist.T) / 2, checks=False), "average")
    return [fcluster(tree, 1.0 - c, "distance") for c in cuts]


def _f1s(sim: np.ndarray, ids: Sequence[str], gold: Mapping[str, str]) -> list[float]:
    sub = {i: gold[i] for i in ids}
    return [bcubed({i: str(c) for i, c in zip(ids, lab, strict=True)}, sub).f1 for lab in average_link(sim, CUTS)]


def _scores(pred: Mapping[str, str], gold: Mapping[str, str]) -> dict[str, float]:
    b = bcubed(dict(pred), {i: gold[i] for i in pred})
    return {"f1": round(b.f1, 4), "p": round(b.precision, 4), "r": round(b.recall, 4)}


def run_baselines(
    sets: Mapping[str, Mapping[str, Any]], scored: Sequence[str], folds: Mapping[str, np.ndarray]
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{set: {"grouped_cv" | "leave_one_corpus_out": {baseline: {f1, p, r, cut}}}}``."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {
        name: {"grouped_cv": {}, "leave_one_corpus_out": {}} for name in scored
    }
    for kind in BASELINES:
        sims = {name: similarity_matrix(kind, sets[name]) for name in scored}
        whole = {name: _f1s(sims[name], [f.id for f in sets[name]["feats"]], sets[name]["gold"]) for name in scored}
        for name in scored:
            ids = np.array([f.id for f in sets[name]["feats"]])
            gold = sets[name]["gold"]
            # leave-one-corpus-out: the cut best on average over the other sets
            others = [whole[o] for o in scored if o != name]
            best = int(np.argmax(np.mean(others, axis=0)))
            labels = average_link(sims[name], [CUTS[best]])[0]
            row = _scores({i: str(c) for i, c in zip(ids, labels, strict=True)}, gold)
            out[name]["leave_one_corpus_out"][kind] = {**row, "cut": float(CUTS[best])}
            # grouped CV: the cut best on the other folds; the whole set clustered at that cut
            # (every look-alike present), this fold's articles read off it — clusters are cut
            # at the fold's border, which can only flatter the baseline's precision
            pred: dict[str, str] = {}
            cuts = []
            fold = folds[name]
            whole_labels = dict(zip(CUTS.tolist(), average_link(sims[name], CUTS), strict=True))
            for k in np.unique(fold):
                tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
                best = int(np.argmax(_f1s(sims[name][np.ix_(tr, tr)], ids[tr].tolist(), gold)))
                cuts.append(float(CUTS[best]))
                labels = whole_labels[float(CUTS[best])][te]
                pred.update({i: f"{k}:{c}" for i, c in zip(ids[te], labels, strict=True)})
            out[name]["grouped_cv"][kind] = {**_scores(pred, gold), "cut": float(np.median(cuts))}
    return out
