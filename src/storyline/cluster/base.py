"""The scorer contract: what the online clusterer asks of a pair scorer.

:class:`~storyline.cluster.scorer.PairScorer` (features + shipped tree model) is the default;
any object with these members can be passed as ``Pipeline(scorer=...)`` or
``OnlineClusterer(scorer)``. :func:`storyline.checks.check_scorer` checks one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..represent.features import ArticleFeatures

SecondVector = Callable[[ArticleFeatures], "np.ndarray | None"]


@runtime_checkable
class Scorer(Protocol):
    """Probability that two articles report the same event.

    Symmetric: P(x, y) = P(y, x), except that features read from one side (sentence
    alignment between texts with as many sentence rows) may differ; the clusterer caches one
    probability for both orders of a pair otherwise.
    """

    #: defaults for the clusterer: ``threshold`` (join) and ``merge_threshold`` (repair);
    #: empty when the scorer has no opinion (the clusterer then uses 0.5)
    meta: Mapping[str, object]
    #: vectors of a second encoder for articles the sentence encoder does not cover, or None;
    #: the pipeline gives it one and computes its vectors ahead when it is a
    #: :class:`~storyline.represent.encoder.LazySecondVectors`
    second: SecondVector | None

    def score_many(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> np.ndarray:
        """Probabilities of the pairs (a, b) for b in ``others``."""
        ...

    def score_grid(
        self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures], need: np.ndarray | None = None
    ) -> np.ndarray:
        """Probabilities of the pairs (a[i], b[j]) as a (len(a), len(b)) array; with ``need``
        (boolean, that shape) a flat array of the needed pairs in row order."""
        ...

    def fill_second(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> None:
        """Called before ``a`` is compared with ``others``: a chance to batch slow work."""
        ...

    def fingerprint(self) -> tuple[object, ...]:
        """Objects whose identity decides the scores (cached probabilities follow it)."""
        ...
