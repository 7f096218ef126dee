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


class LinkScoring:
    """Link scores between events, for :class:`~storyline.stories.linker.StoryLinker`."""

    # ----------------------------------------------------------------- scoring
    def _rarity(self, df: int) -> float:
        """IDF over the events seen, scaled to (0, 1]; ``idf_prior`` empty pseudo-events keep
        a small corpus from calling everything common."""
        n = len(self.events_) + self.idf_prior
        return (math.log((n + 1) / (df + 1)) + 1.0) / (math.log(n + 1) + 1.0)

    def link(self, a: StoryEvent, b: StoryEvent) -> LinkScore:
        """The link score between two events; 0 unless both gates (actors, cosine) pass.

        With fitted weights (``weights.intercept`` set) the score is the fitted logistic
        model's. Beyond ``weights.fitted_days`` apart — where the dated training data (incident
        follow-ups within months) has no example — a fitted score of at least
        ``weights.hand_floor`` also links when the hand-set rule links (many shared actors over
        years, as in a diplomatic dialogue resumed after three years).
        """
        w = self.weights
        gap = abs((a.date - b.date).days) if a.date and b.date else 0
        if gap > self.max_gap_days:
            return NO_LINK
        shared = a.entities & b.entities
        if not any(not is_weak(k) for k in shared):
            return NO_LINK
        if w.intercept is None:
            return self._hand_link(a, b, gap, shared, w, self.actor_min, self.min_cosine)
        actors = sum(w.kind_weight(k) * self._rarity(self._df[k]) for k in sorted(shared))
        cos = float(np.dot(a.centroid, b.centroid))
        if actors < self.actor_min or cos < self.min_cosine:
            return LinkScore(0.0, cos, actors, 0.0, gap, tuple(sorted(shared)))
        kp = self._keyphrase_overlap(a.keyphrases, b.keyphrases)
        specific = [self._rarity(self._df[k]) for k in sorted(shared) if not is_weak(k)]
        extra = {"shared": math.log1p(len(specific)), "rarest": max(specific, default=0.0),
                 "gap": math.log1p(min(gap, w.gap_cap_days))}
        z = (
            w.intercept + w.centroid * cos + w.actors * actors + w.keyphrases * kp
            - w.per_year * min(gap / 365.25, w.max_years)
            + sum(c * extra[name] for name, c in w.terms)
        )
        score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
        vouch = (
            gap > w.fitted_days and w.hand_floor <= score < self.threshold
            and sum(r >= w.vouch_rarity for r in specific) >= w.vouch_keys
        )
        if vouch and self._hand_link(a, b, gap, shared).score >= HAND_THRESHOLD:  # the hand rule
            score = self.threshold
        return LinkScore(score, cos, actors, kp, gap, tuple(sorted(shared)))

    def _hand_link(
        self, a: StoryEvent, b: StoryEvent, gap: int, shared: frozenset[str],
        w: LinkWeights | None = None, actor_min: float = HAND_ACTOR_MIN,
        min_cosine: float = HAND_MIN_COSINE,
    ) -> LinkScore:
        """The hand-set rule (docs/stories.md): gates, then a weighted sum."""
        w = w or LinkWeights()
        actors = sum(w.kind_weight(k) * self._rarity(self._df[k]) for k in sorted(shared))
        cos = float(np.dot(a.centroid, b.centroid))
        if actors < actor_min or cos < min_cosine:
            return LinkScore(0.0, cos, actors, 0.0, gap, tuple(sorted(shared)))
        kp = self._keyphrase_overlap(a.keyphrases, b.keyphrases)
        score = (
            w.centroid * cos
            + w.actors * min(1.0, actors / w.actor_saturation)
            + w.keyphrases * kp
            - w.per_year * min(gap / 365.25, w.max_years)
        )
        return LinkScore(score, cos, actors, kp, gap, tuple(sorted(shared)))

    def _keyphrase_overlap(self, a: Sequence[str], b: Sequence[str]) -> float:
        fa, fb = {fold(k) for k in a}, {fold(k) for k in b}
        if not fa or not fb:
            return 0.0

        def weight(ks: Iterable[str]) -> float:
            return sum(self._rarity(self._kdf[k]) for k in sorted(ks))

        return weight(fa & fb) / min(weight(fa), weight(fb))

