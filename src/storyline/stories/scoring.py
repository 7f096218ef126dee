"""How two events are scored as parts of one story: the fitted logistic model shipped in
``data/linker.json`` (``scripts/train_linker.py``) or the hand-set rule (``docs/stories.md``).

:class:`LinkScoring` is a mixin of :class:`~storyline.stories.linker.StoryLinker`, which owns
the document frequencies (``_df``, ``_kdf``), the events seen and the parameters it reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..text import fold
from .event import LinkScore, LinkWeights, StoryEvent

__all__ = ["HAND_ACTOR_MIN", "HAND_MIN_COSINE", "HAND_THRESHOLD", "NO_LINK", "LinkScoring", "is_weak"]

NO_LINK = LinkScore(0.0, 0.0, 0.0, 0.0, 0, ())
HAND_THRESHOLD, HAND_ACTOR_MIN, HAND_MIN_COSINE = 0.65, 1.2, 0.35  # the hand-set rule's


def is_weak(key: str) -> bool:
    """A key too common to tie two events on its own (a country)."""
    return key.startswith("country:")


class _Rarities(dict[int, float]):
    """:meth:`LinkScoring._rarity` by document frequency, for one number of events ``n``
    (each value computed once, by the same expression)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self._den = math.log(n + 1) + 1.0

    def __missing__(self, df: int) -> float:
        value = self[df] = (math.log((self.n + 1) / (df + 1)) + 1.0) / self._den
        return value


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class LinkScoring:
    """Link scores between events, for :class:`~storyline.stories.linker.StoryLinker`."""

    # ----------------------------------------------------------------- scoring
    def _rarity(self, df: int) -> float:
        """IDF over the events seen, scaled to (0, 1]; ``idf_prior`` empty pseudo-events keep
        a small corpus from calling everything common."""
        return self._rarities()[df]

    def _rarities(self) -> _Rarities:
        """:meth:`_rarity` by document frequency for the events seen now."""
        n = len(self.events_) + self.idf_prior
        table: _Rarities | None = self.__dict__.get("_rarity_table")
        if table is None or table.n != n:
            table = self._rarity_table = _Rarities(n)
        return table

    def link(self, a: StoryEvent, b: StoryEvent) -> LinkScore:
        """The link score between two events; 0 unless both gates (actors, cosine) pass.

        With fitted weights (``weights.intercept`` set) the score is the fitted logistic
        model's. Beyond ``weights.fitted_days`` apart — where the dated training data (incident
        follow-ups within months) has no example — a fitted score of at least
        ``weights.hand_floor`` also links when the hand-set rule links (many shared actors over
        years, as in a diplomatic dialogue resumed after three years).
        """
        ls = self._link(a, b, 0.0)
        assert ls is not None  # (nothing scores below 0)
        return ls

    def _link(self, a: StoryEvent, b: StoryEvent, at_least: float) -> LinkScore | None:
        """:meth:`link`, or None when its score is surely below ``at_least``: the fitted
        score is bounded before the keyphrase overlap (the costly part) is computed, by that
        overlap's largest value (1)."""
        w = self.weights
        gap = abs((a.date - b.date).days) if a.date and b.date else 0
        if gap > self.max_gap_days:
            return NO_LINK
        shared = a.entities & b.entities
        if not any(not is_weak(k) for k in shared):
            return NO_LINK
        if w.intercept is None:
            return self._hand_link(a, b, gap, shared, w, self.actor_min, self.min_cosine)
        rarity, df, kind = self._rarities(), self._df, w.kind_weight
        ordered = tuple(sorted(shared))
        actors = sum(kind(k) * rarity[df[k]] for k in ordered)
        cos = float(np.dot(a.centroid, b.centroid))
        if actors < self.actor_min or cos < self.min_cosine:
            return LinkScore(0.0, cos, actors, 0.0, gap, ordered)
        specific = [rarity[df[k]] for k in ordered if not is_weak(k)]
        extra = {"shared": math.log1p(len(specific)), "rarest": max(specific, default=0.0),
                 "gap": math.log1p(min(gap, w.gap_cap_days))}
        if at_least > 0.0 and not (gap > w.fitted_days and at_least <= self.threshold):
            # the overlap is in [0, 1] (a little slack for rounding): z at its best
            top = _sigmoid(self._z(w, cos, actors, max(0.0, w.keyphrases * (1.0 + 1e-9)), gap, extra))
            if top + 1e-12 < at_least:
                return None
        kp = self._event_overlap(a, b)
        score = _sigmoid(self._z(w, cos, actors, w.keyphrases * kp, gap, extra))
        vouch = (
            gap > w.fitted_days and w.hand_floor <= score < self.threshold
            and sum(r >= w.vouch_rarity for r in specific) >= w.vouch_keys
        )
        if vouch and self._hand_link(a, b, gap, shared).score >= HAND_THRESHOLD:  # the hand rule
            score = self.threshold
        return LinkScore(score, cos, actors, kp, gap, ordered)

    @staticmethod
    def _z(w: LinkWeights, cos: float, actors: float, kp_part: float, gap: int, extra: dict[str, float]) -> float:
        """The fitted model's log-odds, with ``kp_part`` = keyphrase weight × overlap."""
        return (
            w.intercept + w.centroid * cos + w.actors * actors + kp_part  # type: ignore[operator]
            - w.per_year * min(gap / 365.25, w.max_years)
            + sum(c * extra[name] for name, c in w.terms)
        )

    def _hand_link(
        self, a: StoryEvent, b: StoryEvent, gap: int, shared: frozenset[str],
        w: LinkWeights | None = None, actor_min: float = HAND_ACTOR_MIN,
        min_cosine: float = HAND_MIN_COSINE,
    ) -> LinkScore:
        """The hand-set rule (docs/stories.md): gates, then a weighted sum."""
        w = w or LinkWeights()
        rarity, df = self._rarities(), self._df
        actors = sum(w.kind_weight(k) * rarity[df[k]] for k in sorted(shared))
        cos = float(np.dot(a.centroid, b.centroid))
        if actors < actor_min or cos < min_cosine:
            return LinkScore(0.0, cos, actors, 0.0, gap, tuple(sorted(shared)))
        kp = self._event_overlap(a, b)
        score = (
            w.centroid * cos
            + w.actors * min(1.0, actors / w.actor_saturation)
            + w.keyphrases * kp
            - w.per_year * min(gap / 365.25, w.max_years)
        )
        return LinkScore(score, cos, actors, kp, gap, tuple(sorted(shared)))

    def _keyphrase_overlap(self, a: Sequence[str], b: Sequence[str]) -> float:
        """IDF-weighted overlap coefficient of two lists of keyphrases (folded)."""
        fa, fb = {fold(k) for k in a}, {fold(k) for k in b}
        if not fa or not fb:
            return 0.0
        return self._weight(fa & fb) / min(self._weight(fa), self._weight(fb))

    def _event_overlap(self, a: StoryEvent, b: StoryEvent) -> float:
        """:meth:`_keyphrase_overlap` of two events' keyphrases, with each event's folded
        keyphrases and their weight computed once (per state of the counts)."""
        fa, fb = a.folded_keyphrases, b.folded_keyphrases
        if not fa or not fb:
            return 0.0
        return self._weight(fa & fb) / min(self._event_weight(a), self._event_weight(b))

    def _weight(self, keys: Iterable[str]) -> float:
        rarity, kdf = self._rarities(), self._kdf
        return sum(rarity[kdf[k]] for k in sorted(keys))

    def _event_weight(self, ev: StoryEvent) -> float:
        """:meth:`_weight` of an event's folded keyphrases, remembered until the counts
        change (:attr:`_counts_changed` in the linker)."""
        memo: dict[int, tuple[StoryEvent, float]] | None = self.__dict__.get("_weight_memo")
        if memo is None or self.__dict__.get("_weight_version") != self._counts_changed:
            memo = self._weight_memo = {}
            self._weight_version = self._counts_changed
        got = memo.get(id(ev))
        if got is not None and got[0] is ev:
            return got[1]
        value = self._weight(ev.folded_keyphrases)
        memo[id(ev)] = (ev, value)
        return value
