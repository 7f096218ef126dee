"""Families: articles that are copies, rewrites or translations of one another.

Three signals, each turned into a score in [0, 1] where 0.5 is its own decision threshold:

* **shingles** (same language): MinHash estimate of the Jaccard similarity of word 5-shingles
  (``rensa``). Catches copies and light rewrites of one dispatch.
* **alignment** (any two languages the sentence encoder covers, including the same one): the
  share of the shorter article's sentences that find a counterpart with cosine >= ``sentence_
  threshold`` in the other, roughly in order, discounted when the longer article has much more
  to say. Catches translations and machine-translated rewrites, where wording differs a lot.
* **names and numbers** (a language the encoder does not cover, e.g. Icelandic for USE):
  overlap of capitalised words and numbers, discounted by the length ratio.

``family_similarity`` is the max of the three; ``same_family`` thresholds it at 0.5.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..represent.encoder import USE_LANGUAGES
from ..text import fold, fold_text, number_digits, word_runs

__all__ = ["FamilyDoc", "FamilyFinder", "family_similarity", "same_family"]

log = logging.getLogger(__name__)

_FAR = frozenset(["ja", "zh", "ko", "th"])  # languages the encoder aligns less closely to others
_CAPITAL = re.compile(r"(?<![\w])[A-ZÀ-ÞА-ЯЁ][\w]{2,}")


@dataclass
class FamilyDoc:
    """One article as families see it.

    ``vectors`` are unit sentence vectors (n, dim), one row per sentence, or None when not
    encoded (then only the shingle and names signals apply).
    """

    id: str
    lang: str
    text: str
    vectors: np.ndarray | None = None
    sentences: Sequence[str] | None = None
    _minhash: Any = field(default=None, init=False, repr=False, compare=False)
    _names: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)
    _weights: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def minhash(self, num_perm: int = 128, shingle: int = 5) -> Any:
        """The MinHash signature of the word ``shingle``-grams (computed once)."""
        if self._minhash is None:
            from rensa import RMinHash

            words = word_runs(fold_text(self.text))
            grams = [" ".join(words[i : i + shingle]) for i in range(len(words) - shingle + 1)]
            mh = RMinHash(num_perm=num_perm, seed=42)
            mh.update(grams or [" ".join(words)])
            self._minhash = mh
        return self._minhash

    def weights(self, n: int) -> np.ndarray:
        """Per-sentence weights: word counts capped at 25 (uniform without sentences)."""
        if self.sentences is None or len(self.sentences) != n:
            return np.ones(n)
        if self._weights is None:  # (computed once: a doc is compared with every other member)
            self._weights = np.array([min(25, max(1, len(word_runs(s)))) for s in self.sentences], float)
        return self._weights

    def names(self) -> frozenset[str]:
        """Capitalised words (folded, cut to 5 letters for inflection) and normalised numbers."""
        if self._names is None:
            text = unicodedata.normalize("NFKC", self.text)
            caps = {fold(w)[:5] for w in _CAPITAL.findall(text)}
            nums = number_digits(text)
            self._names = frozenset(caps | {"#" + n for n in nums if n})
        return self._names


def _scale(value: float, threshold: float) -> float:
    """Map [0, threshold] to [0, 0.5] and [threshold, 1] to [0.5, 1]."""
    value = min(max(value, 0.0), 1.0)
    if value < threshold:
        return 0.5 * value / threshold if threshold > 0 else 0.5
    return 0.5 + 0.5 * (value - threshold) / (1.0 - threshold) if threshold < 1 else 1.0


class FamilyFinder:
    """Decides whether two articles are one family, and groups articles into families.

    Parameters are plain attributes (tuned on the seeds and WMT21 dev, see docs/entities.md).
    """

    def __init__(
        self,
        minhash_threshold: float = 0.25,
        align_threshold: float = 0.5,
        sentence_threshold: float = 0.6,
        names_threshold: float = 0.4,
        covered: Iterable[str] = USE_LANGUAGES,
        num_perm: int = 128,
        names_min: int = 5,
        close_same: float = 0.75,
        close_cross: float = 0.62,
        close_far: float = 0.5,
    ) -> None:
        self.minhash_threshold = minhash_threshold
        self.align_threshold = align_threshold
        self.sentence_threshold = sentence_threshold
        self.names_threshold = names_threshold
        self.covered = frozenset(covered)
        self.num_perm = num_perm
        self.names_min = names_min
        self.close_same = close_same
        self.close_cross = close_cross
        self.close_far = close_far

    # --- signals -------------------------------------------------------------------------

    def shingle_similarity(self, a: FamilyDoc, b: FamilyDoc) -> float:
        """Estimated Jaccard similarity of word 5-shingles (meaningful in one language)."""
        return float(a.minhash(self.num_perm).jaccard(b.minhash(self.num_perm)))

    def alignment(self, a: FamilyDoc, b: FamilyDoc) -> float:
        """Monotone, length-weighted share of sentences with a counterpart in the other text.

        Each sentence pair earns a soft match ``clip((cos - low) / (high - low), 0, 1)`` with
        ``high = sentence_threshold`` and ``low = high - 0.2``; the best in-order alignment
        (an LCS-style dynamic programme) is weighted by sentence length, so one-line headers
        and shared footers count little. The score mixes the covered share of the shorter text
        (0.7) with that of the longer one (0.3): a shared quote or paragraph is not a family.
        """
        va, vb = a.vectors, b.vectors
        if va is None or vb is None or len(va) == 0 or len(vb) == 0:
            return 0.0
        wa, wb = a.weights(len(va)), b.weights(len(vb))
        sims = va @ vb.T
        high = self.sentence_threshold
        gain = np.clip((sims - (high - 0.2)) / 0.2, 0.0, 1.0)
        if not gain.any():
            return 0.0
        pair_w = np.minimum(wa[:, None], wb[None, :]) * gain
        # Cheap upper bound first: most pairs are far from a family, skip the programme.
        bound_a = float(pair_w.max(axis=1).sum() / wa.sum())
        bound_b = float(pair_w.max(axis=0).sum() / wb.sum())
        bound = 0.7 * max(bound_a, bound_b) + 0.3 * min(bound_a, bound_b)
        if bound < 0.5 * self.align_threshold:
            return min(1.0, bound)
        dp = np.zeros(len(vb) + 1)
        for i in range(len(va)):
            cand = np.maximum(dp[1:], dp[:-1] + pair_w[i])
            dp = np.concatenate(([0.0], np.maximum.accumulate(cand)))
        matched = float(dp[-1])
        share_a, share_b = matched / float(wa.sum()), matched / float(wb.sum())
        short, long_ = max(share_a, share_b), min(share_a, share_b)
        return min(1.0, 0.7 * short + 0.3 * long_)

    def closeness(self, a: FamilyDoc, b: FamilyDoc) -> float:
        """The median, over the shorter text's sentences, of their best cosine in the other
        text: high for copies and translations, lower for two reports of one event, whose
        sentences say similar things in other words."""
        va, vb = a.vectors, b.vectors
        if va is None or vb is None or len(va) == 0 or len(vb) == 0:
            return 0.0
        sims = va @ vb.T
        return float(np.median(sims.max(axis=1 if len(va) <= len(vb) else 0)))

    def close_enough(self, a: FamilyDoc, b: FamilyDoc) -> float:
        """The closeness a copy or translation reaches for this pair of languages: the same
        language (rewrites keep most sentences nearly as they were), two languages of one
        script family, or a CJK language with another (the encoder aligns those less well)."""
        if a.lang == b.lang:
            return self.close_same
        if (a.lang in _FAR) != (b.lang in _FAR):
            return self.close_far
        return self.close_cross

    def names_overlap(self, a: FamilyDoc, b: FamilyDoc) -> float:
        """Overlap of names and numbers, discounted by the length ratio."""
        na, nb = a.names(), b.names()
        small = min(len(na), len(nb))
        if small < self.names_min:
            return 0.0
        overlap = len(na & nb) / small
        if min(sum(not n.startswith("#") for n in x) for x in (na, nb)) < 3:
            overlap *= 0.5  # numbers alone (e.g. Japanese vs Icelandic) are weak evidence
        ratio = min(len(a.text), len(b.text)) / max(len(a.text), len(b.text), 1)
        return overlap * min(1.0, ratio / 0.5)

    def signals(self, a: FamilyDoc, b: FamilyDoc) -> dict[str, float]:
        """Each applicable signal, scaled so that 0.5 is its decision threshold."""
        out: dict[str, float] = {}
        if a.lang == b.lang:
            out["shingles"] = _scale(self.shingle_similarity(a, b), self.minhash_threshold)
        if a.lang in self.covered and b.lang in self.covered:
            aligned = _scale(self.alignment(a, b), self.align_threshold)
            if aligned >= 0.5:
                close, need = self.closeness(a, b), self.close_enough(a, b)
                if close < need:  # aligned, but in other words: two reports, not one text
                    aligned = min(aligned, 0.5 * close / need)
            out["alignment"] = aligned
        else:
            out["names"] = _scale(self.names_overlap(a, b), self.names_threshold)
        return out

    def similarity(self, a: FamilyDoc, b: FamilyDoc) -> float:
        """How strongly ``a`` and ``b`` look like one family, in [0, 1] (0.5 = threshold)."""
        return max(self.signals(a, b).values(), default=0.0)

    def same(self, a: FamilyDoc, b: FamilyDoc) -> bool:
        return self.similarity(a, b) >= 0.5

    # --- grouping ------------------------------------------------------------------------

    def assign(self, doc: FamilyDoc, members: Sequence[tuple[FamilyDoc, str]]) -> str | None:
        """The family id of the best matching member, or None when ``doc`` starts a family."""
        best, best_family = 0.5, None
        for other, family in members:
            if other.id == doc.id:
                continue
            sim = self.similarity(doc, other)
            if sim >= best:
                best, best_family = sim, family
        return best_family

    def group(self, docs: Sequence[FamilyDoc], known: dict[str, str] | None = None) -> dict[str, str]:
        """``id -> family id`` for ``docs``, processed in the given order (deterministic).

        A family id is ``fam-`` + the id of its first member. ``known``: what ``group`` gave
        for the first ``len(known)`` of these docs, in this order (an event's members before
        new ones joined): each doc is only compared with those before it, so their families
        stay, and only the docs after them are compared (with all).
        """
        known = known or {}
        out: dict[str, str] = {}
        members: list[tuple[FamilyDoc, str]] = []
        for i, doc in enumerate(docs):
            family = (known.get(doc.id) if i < len(known) else None) or self.assign(doc, members) or f"fam-{doc.id}"
            out[doc.id] = family
            members.append((doc, family))
        return out


_DEFAULT = FamilyFinder()


def family_similarity(a: FamilyDoc, b: FamilyDoc) -> float:
    """``FamilyFinder().similarity(a, b)`` with the default parameters."""
    return _DEFAULT.similarity(a, b)


def same_family(a: FamilyDoc, b: FamilyDoc) -> bool:
    """``FamilyFinder().same(a, b)`` with the default parameters."""
    return _DEFAULT.same(a, b)
