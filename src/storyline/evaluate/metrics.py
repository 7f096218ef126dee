"""Clustering metrics: B³, pairwise, ARI/AMI and breakdowns by language.

Every function takes ``pred`` and ``gold`` as mappings ``article id -> cluster label``. The
items scored are the ids in ``gold``: an id missing from ``pred`` counts as a singleton of its
own, and ids in ``pred`` unknown to ``gold`` are ignored (see ``shared/data/README.md``).

Conventions for degenerate input: with nothing to score (empty ``gold``) every score is 1.0,
as scikit-learn does for ARI/AMI; pairwise precision is 1.0 when no pair is predicted (no false
merge) and pairwise recall is 1.0 when gold has no pair (nothing to find).

>>> gold = {"a": "x", "b": "x", "c": "y"}
>>> bcubed({"a": 1, "b": 1, "c": 2}, gold).f1
1.0
>>> pairwise({}, gold)  # all singletons: no false merge, no pair found
PRF(precision=1.0, recall=0.0, f1=0.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

__all__ = [
    "PRF",
    "UNKNOWN_LANG",
    "ClusterStats",
    "ami",
    "ari",
    "bcubed",
    "cluster_stats",
    "cross_lingual_recall",
    "pairwise",
    "per_language",
]

UNKNOWN_LANG = "und"
"""Language code used for items whose language is not given (ISO 639-2 'undetermined')."""

Labels = Mapping[str, Hashable]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and their harmonic mean (F1)."""

    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, precision: float, recall: float) -> PRF:
        """Build from precision and recall; F1 is 0 when both are 0."""
        p, r = float(precision), float(recall)
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return cls(p, r, f1)

    def as_dict(self) -> dict[str, float]:
        """``{"precision": …, "recall": …, "f1": …}``."""
        return asdict(self)


@dataclass(frozen=True)
class ClusterStats:
    """Cluster counts over the scored items (``pred`` restricted to the ids in ``gold``)."""

    n_items: int
    n_gold: int
    n_pred: int
    singleton_share: float
    """Share of predicted clusters that hold a single item (0.0 when there are none)."""

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _aligned(pred: Labels, gold: Labels) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Item ids (gold order) with integer gold and predicted cluster codes.

    An id missing from ``pred`` gets a fresh predicted code of its own (a singleton).
    """
    ids = list(gold)
    gcodes: dict[Hashable, int] = {}
    pcodes: dict[Hashable, int] = {}
    g = np.empty(len(ids), dtype=np.int64)
    p = np.empty(len(ids), dtype=np.int64)
    missing = 0
    for i, item in enumerate(ids):
        g[i] = gcodes.setdefault(gold[item], len(gcodes))
        if item in pred:
            p[i] = pcodes.setdefault(pred[item], len(pcodes))
        else:
            p[i] = -1 - missing  # negative codes never collide with real labels
            missing += 1
    return ids, g, p


def _sizes(codes: np.ndarray) -> np.ndarray:
    """For each item, the size of its cluster."""
    _, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    return counts[inverse]


def _cells(g: np.ndarray, p: np.ndarray) -> np.ndarray:
    """For each item, how many items share both its gold and its predicted cluster."""
    if g.size == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = np.stack([g, p], axis=1)
    _, inverse, counts = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
    return counts[inverse.ravel()]


def _bcubed_items(g: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-item B³ precision and recall."""
    cells = _cells(g, p).astype(float)
    return cells / _sizes(p), cells / _sizes(g)


def bcubed(pred: Labels, gold: Labels) -> PRF:
    """Item-averaged B³ precision, recall and F1 (Bagga & Baldwin 1998).

    For an item, precision is the share of its predicted cluster that shares its gold event,
    recall the share of its gold event that shares its predicted cluster; both are averaged
    over all items and F1 is the harmonic mean of the two averages.

    >>> round(bcubed({"a": 1, "b": 1, "c": 1}, {"a": "x", "b": "x", "c": "y"}).precision, 4)
    0.5556
    """
    _, g, p = _aligned(pred, gold)
    if g.size == 0:
        return PRF(1.0, 1.0, 1.0)
    prec, rec = _bcubed_items(g, p)
    return PRF.of(prec.mean(), rec.mean())


def _pairs(counts: np.ndarray) -> int:
    return int((counts * (counts - 1) // 2).sum())


def _pair_counts(g: np.ndarray, p: np.ndarray) -> tuple[int, int, int]:
    """(pairs together in both, predicted pairs, gold pairs), from contingency counts."""
    if g.size == 0:
        return 0, 0, 0
    _, cell_counts = np.unique(np.stack([g, p], axis=1), axis=0, return_counts=True)
    _, pred_counts = np.unique(p, return_counts=True)
    _, gold_counts = np.unique(g, return_counts=True)
    return _pairs(cell_counts), _pairs(pred_counts), _pairs(gold_counts)


def pairwise(pred: Labels, gold: Labels) -> PRF:
    """Precision, recall and F1 over unordered item pairs put in the same cluster.

    Computed from contingency counts (no enumeration of pairs).

    >>> pairwise({"a": 1, "b": 1, "c": 1}, {"a": "x", "b": "x", "c": "y"})
    PRF(precision=0.3333333333333333, recall=1.0, f1=0.5)
    """
    _, g, p = _aligned(pred, gold)
    both, n_pred, n_gold = _pair_counts(g, p)
    precision = both / n_pred if n_pred else 1.0
    recall = both / n_gold if n_gold else 1.0
    return PRF.of(precision, recall)


def ari(pred: Labels, gold: Labels) -> float:
    """Adjusted Rand index (scikit-learn's definition)."""
    _, g, p = _aligned(pred, gold)
    return float(adjusted_rand_score(g, p))


def ami(pred: Labels, gold: Labels) -> float:
    """Adjusted mutual information (scikit-learn's definition, arithmetic normalisation)."""
    _, g, p = _aligned(pred, gold)
    return float(adjusted_mutual_info_score(g, p))


def cluster_stats(pred: Labels, gold: Labels) -> ClusterStats:
    """Numbers of gold and predicted clusters and the singleton share of predicted clusters.

    >>> cluster_stats({"a": 1, "b": 1}, {"a": "x", "b": "x", "c": "y"})
    ClusterStats(n_items=3, n_gold=2, n_pred=2, singleton_share=0.5)
    """
    _, g, p = _aligned(pred, gold)
    if g.size == 0:
        return ClusterStats(0, 0, 0, 0.0)
    _, pred_counts = np.unique(p, return_counts=True)
    n_pred = int(pred_counts.size)
    share = float((pred_counts == 1).sum() / n_pred)
    return ClusterStats(int(g.size), int(np.unique(g).size), n_pred, share)


def _langs_of(ids: list[str], langs: Mapping[str, str]) -> list[str]:
    return [langs.get(item) or UNKNOWN_LANG for item in ids]


def per_language(pred: Labels, gold: Labels, langs: Mapping[str, str]) -> dict[str, PRF]:
    """B³ restricted to the items of each language, keyed by language (sorted).

    Each item's B³ precision and recall are computed against the full clusters (all
    languages), then averaged over the items of one language. Items without a language in
    ``langs`` are grouped under ``"und"``.

    >>> gold = {"a": "x", "b": "x", "c": "y"}
    >>> per_language({"a": 1, "b": 2, "c": 2}, gold, {"a": "en", "b": "fr", "c": "fr"})["en"]
    PRF(precision=1.0, recall=0.5, f1=0.6666666666666666)
    """
    ids, g, p = _aligned(pred, gold)
    if not ids:
        return {}
    prec, rec = _bcubed_items(g, p)
    item_langs = np.array(_langs_of(ids, langs))
    out: dict[str, PRF] = {}
    for lang in sorted(set(item_langs.tolist())):
        mask = item_langs == lang
        out[lang] = PRF.of(prec[mask].mean(), rec[mask].mean())
    return out


def _cross_pairs(groups: Mapping[Hashable, Counter[str]]) -> Counter[str]:
    """Cross-language pair counts ("en-fr": n) over groups of per-language item counts."""
    out: Counter[str] = Counter()
    for by_lang in groups.values():
        for a, b in combinations(sorted(by_lang), 2):
            out[f"{a}-{b}"] += by_lang[a] * by_lang[b]
    return out


def cross_lingual_recall(pred: Labels, gold: Labels, langs: Mapping[str, str]) -> dict[str, float]:
    """Recall of gold pairs whose two items differ in language.

    Returns ``{"overall": r, "de-en": r, "en-fr": r, …}`` with one key per language pair
    present among gold pairs (the two codes sorted, the keys sorted after ``overall``), or
    ``{}`` when gold holds no cross-lingual pair.

    >>> gold = {"a": "x", "b": "x", "c": "x"}
    >>> cross_lingual_recall({"a": 1, "b": 1, "c": 2}, gold, {"a": "en", "b": "fr", "c": "de"})
    {'overall': 0.3333333333333333, 'de-en': 0.0, 'de-fr': 0.0, 'en-fr': 1.0}
    """
    ids, g, p = _aligned(pred, gold)
    item_langs = _langs_of(ids, langs)
    by_gold: dict[Hashable, Counter[str]] = {}
    by_cell: dict[Hashable, Counter[str]] = {}
    for gi, pi, lang in zip(g.tolist(), p.tolist(), item_langs, strict=True):
        by_gold.setdefault(gi, Counter())[lang] += 1
        by_cell.setdefault((gi, pi), Counter())[lang] += 1
    total = _cross_pairs(by_gold)
    found = _cross_pairs(by_cell)
    n_total = sum(total.values())
    if not n_total:
        return {}
    out = {"overall": sum(found.values()) / n_total}
    for name in sorted(total):
        out[name] = found[name] / total[name]
    return out
