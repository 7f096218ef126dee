"""Pair scorer: how likely two articles report the same event.

Features are computed for (article, article) pairs; a small gradient-boosted tree model, fitted
on the development sets by ``scripts/train_scorer.py`` and shipped as ``data/scorer.npz``,
turns them into a probability. The prediction code below walks the exported trees with numpy,
so no pickled estimator (and no scikit-learn version) is needed at run time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from ..represent.features import ArticleFeatures, sparse_cos, weighted_overlap

FEATURES = [
    "doc_cos",  # cosine of lead-weighted mean sentence vectors
    "lead_cos",  # cosine of title + first sentences
    "tfidf_cos",  # same-language tf-idf cosine (0 across languages)
    "names_overlap",  # overlap coefficient of name keys
    "names_shared",  # log1p(shared name keys)
    "numbers_overlap",  # overlap coefficient of numbers mentioned
    "numbers_shared",  # log1p(shared numbers)
    "same_lang",
    "covered",  # both languages known to the sentence encoder
    "length_ratio",
    "aligned_share",  # share of sentences of the shorter text with a close counterpart
    "aligned_soft",  # mean best sentence similarity
    "second_cos",  # second encoder's cosine when a language is not covered, else 0
    "date_gap",  # log1p(|days|) between event dates, -1 when unknown
    "date_known",
    "year_match",  # years in the leads: 1 shared, 0 disjoint, -1 unknown
]

SecondVector = Callable[[ArticleFeatures], "np.ndarray | None"]


def _aligned(a: np.ndarray | None, b: np.ndarray | None, cut: float = 0.7) -> tuple[float, float]:
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    m = a.astype(np.float32) @ b.astype(np.float32).T
    if len(a) > len(b):
        m = m.T
    best = m.max(axis=1)
    return float((best >= cut).mean()), float(best.mean())


def unit_cos(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of unit vectors stored as float16, accumulated in float32."""
    return float(a.astype(np.float32) @ b.astype(np.float32))


def pair_features(
    a: ArticleFeatures, b: ArticleFeatures, second: SecondVector | None = None
) -> list[float]:
    """The feature vector of one pair, in the order of :data:`FEATURES`."""
    same = a.lang == b.lang
    covered = a.covered and b.covered
    al, soft = _aligned(a.sents, b.sents)
    sec = 0.0
    if not covered and second is not None:
        va, vb = second(a), second(b)
        if va is not None and vb is not None:
            sec = float(va @ vb)
    if a.date is not None and b.date is not None:
        gap, known = math.log1p(abs((a.date - b.date).days)), 1.0
    else:
        gap, known = -1.0, 0.0
    return [
        unit_cos(a.doc, b.doc),
        unit_cos(a.lead, b.lead),
        sparse_cos(a.terms, b.terms) if same else 0.0,
        weighted_overlap(a.names, b.names),
        math.log1p(len(a.names & b.names)),
        weighted_overlap(a.numbers, b.numbers),
        math.log1p(len(a.numbers & b.numbers)),
        float(same),
        float(covered),
        min(a.length, b.length) / max(a.length, b.length, 1),
        al,
        soft,
        sec,
        gap,
        known,
        (float(bool(a.years & b.years)) if a.years and b.years else -1.0),
    ]


class TreeModel:
    """Gradient-boosted trees exported from scikit-learn as flat numpy arrays.

    ``nodes`` columns: feature, threshold, left, right, is_leaf, value, missing_left;
    ``tree_starts`` gives each tree's first row. Probability = sigmoid(baseline + Σ leaves).
    """

    def __init__(self, nodes: np.ndarray, tree_starts: np.ndarray, baseline: float) -> None:
        self.feature = nodes[:, 0].astype(np.int64)
        self.threshold = nodes[:, 1]
        self.left = nodes[:, 2].astype(np.int64)
        self.right = nodes[:, 3].astype(np.int64)
        self.is_leaf = nodes[:, 4].astype(bool)
        self.value = nodes[:, 5]
        self.tree_starts = tree_starts.astype(np.int64)
        self.baseline = float(baseline)

    @classmethod
    def from_sklearn(cls, model) -> TreeModel:  # type: ignore[no-untyped-def]
        """Export a fitted binary ``HistGradientBoostingClassifier``."""
        rows, starts = [], []
        offset = 0
        for (predictor,) in model._predictors:  # one tree per iteration (binary)
            nodes = predictor.nodes
            starts.append(offset)
            for nd in nodes:
                rows.append(
                    [
                        nd["feature_idx"],
                        nd["num_threshold"],
                        nd["left"] + offset,
                        nd["right"] + offset,
                        nd["is_leaf"],
                        nd["value"],
                        nd["missing_go_to_left"],
                    ]
                )
            offset += len(nodes)
        baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        return cls(np.asarray(rows, dtype=np.float64), np.asarray(starts), baseline)

    def _depth(self) -> int:
        depth = np.zeros(len(self.feature), dtype=np.int64)
        for start in self.tree_starts:  # children come after parents within a tree
            stack = [int(start)]
            while stack:
                i = stack.pop()
                if not self.is_leaf[i]:
                    for c in (self.left[i], self.right[i]):
                        depth[c] = depth[i] + 1
                        stack.append(int(c))
        return int(depth.max()) if len(depth) else 0

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Walk all trees at once: one numpy step per tree level, not per tree."""
        x = np.asarray(x, dtype=np.float64)
        if not hasattr(self, "max_depth"):
            self.max_depth = self._depth()
        n = len(x)
        node = np.broadcast_to(self.tree_starts, (n, len(self.tree_starts))).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.max_depth):
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            nxt = np.where(go_left, self.left[node], self.right[node])
            node = np.where(self.is_leaf[node], node, nxt)
        return self.baseline + self.value[node].sum(axis=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.raw(x)))

    def save(self, path: str | Path, **meta: object) -> None:
        nodes = np.column_stack(
            [
                self.feature,
                self.threshold,
                self.left,
                self.right,
                self.is_leaf,
                self.value,
                np.zeros(len(self.feature)),
            ]
        )
        np.savez_compressed(
            path,
            nodes=nodes,
            tree_starts=self.tree_starts,
            baseline=np.array([self.baseline]),
            features=np.array(FEATURES),
            **{k: np.array(v) for k, v in meta.items()},
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> tuple[TreeModel, dict[str, object]]:
        if path is None:
            ref = resources.files("storyline") / "data" / "scorer.npz"
            with resources.as_file(ref) as p:
                return cls.load(p)
        z = np.load(path, allow_pickle=False)
        names = [str(s) for s in z["features"]]
        if names != FEATURES:
            raise ValueError(f"scorer file {path} was fitted on other features: {names}")
        meta = {k: z[k].tolist() for k in z.files if k not in {"nodes", "tree_starts", "baseline"}}
        return cls(z["nodes"], z["tree_starts"], float(z["baseline"][0])), meta


class PairScorer:
    """Probability that two articles report the same event (one definition, used everywhere)."""

    def __init__(self, model: TreeModel | None = None, second: SecondVector | None = None) -> None:
        if model is None:
            model, meta = TreeModel.load()
            self.meta = meta
        else:
            self.meta = {}
        self.model = model
        self.second = second

    def fill_second(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> None:
        """Second-encoder vectors for ``a`` and the ``others`` it needs them with, in one batch."""
        fill = getattr(self.second, "fill", None)
        if fill is not None:
            need = [b for b in others if not (a.covered and b.covered)]
            if need:
                fill([a, *need])  # one batch for the second encoder

    def features(
        self, a: ArticleFeatures, others: Sequence[ArticleFeatures], fill: bool = True
    ) -> np.ndarray:
        if fill:
            self.fill_second(a, others)
        return np.asarray([pair_features(a, b, self.second) for b in others], dtype=np.float64)

    def score_many(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> np.ndarray:
        if not others:
            return np.zeros(0)
        return self.model.predict_proba(self.features(a, others))

    def score(self, a: ArticleFeatures, b: ArticleFeatures) -> float:
        return float(self.score_many(a, [b])[0])
