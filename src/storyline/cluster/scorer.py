"""Pair scorer: how likely two articles report the same event.

Features of (article, article) pairs (:mod:`storyline.cluster.pairs`) go through a small
gradient-boosted tree model (:mod:`storyline.cluster.tree`) that turns them into a
probability. :class:`PairScorer` is the default implementation of the
:class:`~storyline.cluster.base.Scorer` contract.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..represent.features import ArticleFeatures
from .pairs import FEATURES, SecondVector, cap_disjoint, features_grid, pair_features, unit_cos
from .tree import TreeModel

__all__ = ["FEATURES", "PairScorer", "SecondVector", "TreeModel", "pair_features", "unit_cos"]


class PairScorer:
    """Probability that two articles report the same event (one definition, used everywhere).

    ``model``: the tree model (default: the one shipped in the package, whose file also gives
    the clusterer's default thresholds in :attr:`meta`). ``second``: vectors of a second
    encoder for languages the sentence encoder does not cover, a callable
    ``ArticleFeatures -> vector | None``; when it also has ``fill(features)``, the vectors of
    the articles about to be compared are asked for in one batch first.
    """

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
        fill = getattr(self.second, "fill", None)  # the optional batch hook (see above)
        if fill is not None:
            need = [b for b in others if not (a.covered and b.covered)]
            if need:
                fill([a, *need])  # one batch for the second encoder

    def features(
        self, a: ArticleFeatures, others: Sequence[ArticleFeatures], fill: bool = True
    ) -> np.ndarray:
        """Features of the pairs (a, b) for b in ``others``: a (len(others), n features) array."""
        if fill:
            self.fill_second(a, others)
        return self.features_grid([a], others)[0]

    def upper_grid(
        self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Upper bounds of the probabilities of the pairs (a[i], b[j]) that hold whatever the
        second encoder's cosine of a pair turns out to be, found without computing it: the
        most the model gives over every value that cosine can take. Returns the bounds, a
        (len(a), len(b)) array (the probability itself where a pair does not need the second
        encoder), and which pairs need it; None when none does.

        A candidate whose mean bound stays below a threshold cannot reach it: its members'
        second-encoder vectors (about 50 ms each) need not be computed to decide.
        """
        need = np.array([[not (x.covered and y.covered) for y in b] for x in a], dtype=bool)
        if self.second is None or not need.any():
            return None
        x = features_grid(a, b, None, None).reshape(len(a) * len(b), -1)  # second cosine 0
        p = self.predict(x)
        col = FEATURES.index("second_cos")
        values = self.model.interval_values(col, -1.0, 1.0)
        flat = need.ravel()
        rows = np.repeat(x[flat], len(values), axis=0)
        rows[:, col] = np.tile(values, int(flat.sum()))
        p[flat] = self.predict(rows).reshape(-1, len(values)).max(axis=1)
        return p.reshape(len(a), len(b)), need

    def features_grid(
        self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures], need: np.ndarray | None = None
    ) -> np.ndarray:
        """:func:`~storyline.cluster.pairs.features_grid` with this scorer's second encoder."""
        return features_grid(a, b, need, self.second)

    def score_grid(
        self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures], need: np.ndarray | None = None
    ) -> np.ndarray:
        """Probabilities of the pairs (a[i], b[j]): a (len(a), len(b)) array, or with ``need``
        (a boolean (len(a), len(b)) array) a flat array of the needed pairs, in row order."""
        grid = self.features_grid(a, b, need)
        if need is None:
            return self.predict(grid.reshape(len(a) * len(b), -1)).reshape(len(a), len(b))
        return self.predict(grid[need])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of pairs from their features: the model's, capped for same-language
        pairs that name different things (:func:`~storyline.cluster.pairs.cap_disjoint`)."""
        return cap_disjoint(x, self.model.predict_proba(x))

    def fingerprint(self) -> tuple[object, ...]:
        """Objects whose identity decides the scores: pair probabilities cached under one
        fingerprint are not reused under another."""
        return (self, self.model, self.second)

    def score_many(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> np.ndarray:
        if not others:
            return np.zeros(0)
        return self.predict(self.features(a, others))

    def score(self, a: ArticleFeatures, b: ArticleFeatures) -> float:
        return float(self.score_many(a, [b])[0])
