"""A bounded cache of pair probabilities for the online clusterer.

Pair features are a function of the two articles, so a pair scored once keeps its
probability: repair re-links grown events whose member pairs were mostly scored before. The
cache holds two generations of at most ``size / 2`` pairs each (the older one is dropped
when the current one is full) and is emptied when the scorer changes (its
:meth:`~storyline.cluster.base.Scorer.fingerprint`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..represent.features import ArticleFeatures
from .base import Scorer


class PairCache:
    """Probabilities of article pairs, keyed by the two articles (unordered where that holds)."""

    def __init__(self, size: int = 300_000) -> None:
        self.size = size
        self.current_: dict[int, float] = {}
        self.old_: dict[int, float] = {}  # the previous generation
        self.owner_: tuple[object, ...] = ()  # the scorer's fingerprint they were computed with
        self.num_: dict[str, int] = {}  # article id -> small int, for the pair keys
        self.hits_ = 0
        self.misses_ = 0

    def __len__(self) -> int:
        return len(self.current_) + len(self.old_)

    def keys(self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures]) -> list[int]:
        """Cache keys of all pairs (x, y), a-major: the two articles' numbers, unordered —
        except between texts with as many sentence rows, where sentence alignment reads from
        the first article's side (the other features do not depend on the order)."""
        num = self.num_
        ids = []
        for f in (*a, *b):
            i = num.get(f.id)
            if i is None:
                i = num[f.id] = len(num)
            ids.append(i)
        n = np.fromiter((0 if f.sents is None else len(f.sents) for f in (*a, *b)), np.int64, len(ids))
        code = np.asarray(ids, dtype=np.int64)
        i, j = code[: len(a), None], code[None, len(a) :]
        na, nb = n[: len(a), None], n[None, len(a) :]
        swap = ((na == 0) | (na != nb)) & (j < i)
        return ((np.where(swap, j, i) << 32) | np.where(swap, i, j)).ravel().tolist()

    def remember(self, key: int, p: float) -> None:
        cur = self.current_
        if len(cur) >= max(1, self.size // 2):  # generation full: the older one goes
            self.old_, cur = cur, {}
            self.current_ = cur
        cur[key] = p

    def probs(self, scorer: Scorer, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures]) -> np.ndarray:
        """Probabilities of all pairs (x, y), x in ``a``, y in ``b``: a (len(a), len(b)) array.

        Pairs scored before come from the cache; the others are scored in one batch.
        """
        owner = scorer.fingerprint()
        if len(self.owner_) != len(owner) or any(x is not y for x, y in zip(owner, self.owner_, strict=True)):
            self.current_, self.old_, self.owner_ = {}, {}, owner
        if not len(a) or not len(b):
            return np.zeros((len(a), len(b)))
        if self.size <= 0:  # no cache
            self.misses_ += len(a) * len(b)
            return scorer.score_grid(a, b)
        keys = self.keys(a, b)
        get = self.current_.get
        found = [get(k) for k in keys]
        old = self.old_
        missing = []
        for n, p in enumerate(found):
            if p is None:
                p = old.get(keys[n])
                if p is None:
                    missing.append(n)
                else:
                    found[n] = p
                    self.remember(keys[n], p)
        self.misses_ += len(missing)
        self.hits_ += len(keys) - len(missing)
        if not missing:
            return np.array(found, dtype=np.float64).reshape(len(a), len(b))
        for n in missing:
            found[n] = 0.0
        out = np.array(found, dtype=np.float64).reshape(len(a), len(b))
        need = np.zeros(len(keys), dtype=bool)
        need[missing] = True
        need = need.reshape(len(a), len(b))
        # features of the rows and columns with a pair not scored before (after a join that is
        # mostly the new member's row): the same numbers as in the whole grid
        rows, cols = np.flatnonzero(need.any(axis=1)), np.flatnonzero(need.any(axis=0))
        sub = need[rows[:, None], cols[None, :]]
        probs = scorer.score_grid([a[i] for i in rows], [b[j] for j in cols], sub)
        out[need] = probs
        for n, p in zip(missing, probs.tolist(), strict=True):
            self.remember(keys[n], p)
        return out
