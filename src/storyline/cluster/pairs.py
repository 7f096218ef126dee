"""Pair features: what is compared between two articles, for one pair or many at once.

:func:`pair_features` is the reference for one pair; :func:`features_grid` computes the same
numbers for every pair of two lists of articles (matrix products for the vectors, the set
features pair by pair), which is what the clusterer calls.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence

import numpy as np

from ..represent.features import (
    ArticleFeatures,
    SparseVec,
    count_specific,
    sparse_cos,
    weighted_overlap,
)
from .base import SecondVector

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
    "pub_gap",  # log1p(|days|) between publication dates, -1 when unknown
    # how many names / numbers the sparser side has: with an overlap of 0 they tell "both
    # name things, none in common" (two matches of one template) from "one names nothing".
    # Read by cap_disjoint below, not by the shipped model (scripts/train_scorer.py NOT_READ)
    "names_min",  # log1p(min(|names a|, |names b|))
    "numbers_min",  # log1p(min(|numbers a|, |numbers b|))
    # the same for the specific entity keys (a person, organisation, city or place: a key other
    # than a country's), read by cap_disjoint, not by the model
    "specific_shared",  # log1p(shared specific keys)
    "specific_min",  # log1p(min(|specific keys a|, |specific keys b|))
]


# Two reports in one language that each name at least DISJOINT_NAMES things (people, places,
# organisations) and share none of them are about different happenings, however alike their
# wording: their probability is capped at DISJOINT_CAP. The dev sets have 1 % of same-event
# pairs of that kind (ECB+ 34 of 3,666, gva 22 of 1,680, WMT 0 of 56); template-written
# reports ("Fulham 2-0 Leicester", "Burnley 0-0 Everton", same day) are where the fitted model,
# which has no such pair among its different-event ones, would otherwise call them one event.
# The same holds for two such reports that each name at least DISJOINT_SPECIFIC specific
# entities (a person, organisation, city or place; a country is shared by too many happenings)
# and share none, whatever else they share: bulletins of one template about quakes in two
# cities of one country ("… near Oaxaca, Mexico" / "… near Pinotepa, Mexico") share the country
# and every word around it.
DISJOINT_NAMES, DISJOINT_SPECIFIC, DISJOINT_CAP = 2, 1, 0.2
_SAME, _SHARED, _NAMES_MIN = FEATURES.index("same_lang"), FEATURES.index("names_shared"), FEATURES.index("names_min")
_SPEC_SHARED, _SPEC_MIN = FEATURES.index("specific_shared"), FEATURES.index("specific_min")


def disjoint_names(x: np.ndarray) -> np.ndarray:
    """Rows of a feature matrix (n, len(FEATURES)) whose pair falls under the cap above."""
    return (x[:, _SAME] == 1.0) & (names_apart(x) | _apart(x, _SPEC_SHARED, _SPEC_MIN, DISJOINT_SPECIFIC))


def names_apart(x: np.ndarray) -> np.ndarray:
    """Rows whose two sides each name DISJOINT_NAMES things or more and share none (the
    first rule above, languages aside)."""
    return _apart(x, _SHARED, _NAMES_MIN, DISJOINT_NAMES)


def _apart(x: np.ndarray, shared: int, least: int, n: int) -> np.ndarray:
    return (x[:, shared] == 0.0) & (x[:, least] >= math.log1p(n) - 1e-12)


def cap_disjoint(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The probabilities ``p`` of the pairs in ``x``, capped where :func:`disjoint_names`."""
    return np.where(disjoint_names(x), np.minimum(p, DISJOINT_CAP), p) if len(p) else p


# columns computed pair by pair in PairScorer.features_grid (the others are matrix products)
_SET_COLUMNS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20])


def _f64(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _aligned(a: np.ndarray | None, b: np.ndarray | None, cut: float = 0.7) -> tuple[float, float]:
    """Share of the shorter text's sentences with a counterpart ≥ ``cut``, and their mean best
    similarity (read from ``a``'s side when both have as many sentences).

    In float64: the products of float16 vectors and all their partial sums are exact there,
    so a dot product does not depend on how it is batched (:func:`aligned_grid` gives the same
    numbers). The mean is a sequential sum, as in :func:`aligned_grid`.
    """
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    m = _f64(a) @ _f64(b).T
    best = m.max(axis=0) if len(a) > len(b) else m.max(axis=1)
    return float(np.count_nonzero(best >= cut) / len(best)), float(sum(best.tolist()) / len(best))


def unit_cos(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of unit vectors stored as float16, accumulated in float64 (exact for float16
    inputs, so the same number whichever way the products are batched)."""
    return float(_f64(a) @ _f64(b))


def _sparse_dot(a: SparseVec, b: SparseVec) -> float:
    """:func:`~storyline.represent.features.sparse_cos`, the same number, found faster: the
    shared term ids in ascending order, then the same float32 dot product."""
    ia_ids, ib_ids = a[0], b[0]
    if not len(ia_ids) or not len(ib_ids):
        return 0.0
    pos = ia_ids.searchsorted(ib_ids)
    pos[pos == len(ia_ids)] = 0
    hit = ia_ids[pos] == ib_ids
    if not hit.any():
        return 0.0
    return float(np.dot(a[1][pos[hit]], b[1][hit]))


def _sparse_dots(a: SparseVec, others: Sequence[SparseVec]) -> list[float]:
    """:func:`_sparse_dot` of ``a`` with each of ``others``: one ``searchsorted`` for all of
    them, then per pair the same float32 dot product of the shared terms in id order."""
    ids, vals = a
    if not others:
        return []
    if not len(ids):
        return [0.0] * len(others)
    if any(t[1].dtype != vals.dtype for t in others):  # keep each product in its own dtype
        return [_sparse_dot(a, t) for t in others]
    lens = [len(t[0]) for t in others]
    cat_ids = np.concatenate([t[0] for t in others])
    cat_vals = np.concatenate([t[1] for t in others])
    pos = ids.searchsorted(cat_ids)
    pos[pos == len(ids)] = 0
    hits = np.flatnonzero(ids[pos] == cat_ids)
    bounds = hits.searchsorted(np.cumsum([0, *lens])).tolist()
    out = []
    for s, e in itertools.pairwise(bounds):
        if s == e:
            out.append(0.0)
        else:
            h = hits[s:e]
            out.append(float(np.dot(vals[pos[h]], cat_vals[h])))
    return out


def pair_features(
    a: ArticleFeatures, b: ArticleFeatures, second: SecondVector | None = None
) -> list[float]:
    """The feature vector of one pair, in the order of :data:`FEATURES` (the reference that
    :func:`features_grid` computes for many pairs at once)."""
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
        _gap(a.published, b.published),
        math.log1p(min(len(a.names), len(b.names))),
        math.log1p(min(len(a.numbers), len(b.numbers))),
        math.log1p(count_specific(a.names & b.names)),
        math.log1p(min(a.n_specific, b.n_specific)),
    ]


def _gap(a: dt.date | None, b: dt.date | None) -> float:
    """log1p of the days between two dates, -1 when one is unknown."""
    return math.log1p(abs((a - b).days)) if a is not None and b is not None else -1.0


def _segments(mats: Sequence[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the non-empty matrices and their row counts."""
    n = np.fromiter((0 if m is None else len(m) for m in mats), dtype=np.int64, count=len(mats))
    idx = np.flatnonzero(n)
    return idx, n[idx]


def aligned_grid(
    sa: Sequence[np.ndarray | None], sb: Sequence[np.ndarray | None], cut: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_aligned` of every pair (sa[i], sb[j]): two (len(sa), len(sb)) arrays.

    One matrix product of all sentence rows of ``sa`` with all rows of ``sb``; the best match
    of each row within each article of the other side by ``maximum.reduceat``; the sums over
    each article's rows sequential (padded with zeros), as in :func:`_aligned`.
    """
    share = np.zeros((len(sa), len(sb)))
    soft = np.zeros((len(sa), len(sb)))
    ia, la = _segments(sa)
    ib, lb = _segments(sb)
    if not len(ia) or not len(ib):
        return share, soft
    big = _f64(np.concatenate([sa[i] for i in ia])) @ _f64(np.concatenate([sb[j] for j in ib])).T
    na, nb = big.shape
    offa = np.concatenate(([0], np.cumsum(la)[:-1]))
    offb = np.concatenate(([0], np.cumsum(lb)[:-1]))
    # a's side: best over each b's sentences for every a row, summed over each a's rows
    rowbest = np.maximum.reduceat(big, offb, axis=1)  # (na rows, len(ib))
    rowbest = np.vstack([rowbest, np.zeros((1, len(ib)))])  # a zero row for the padding
    steps = np.arange(int(la.max()))
    valid = steps[None, :] < la[:, None]
    g = rowbest[np.where(valid, offa[:, None] + steps[None, :], na)]  # (len(ia), max rows, len(ib))
    sum_a = g[:, 0, :].copy()
    for k in range(1, g.shape[1]):
        sum_a += g[:, k, :]
    cnt_a = np.count_nonzero((g >= cut) & valid[:, :, None], axis=1)
    # b's side (a has more sentences): best over each a's sentences for every b row
    colbest = np.maximum.reduceat(big, offa, axis=0)  # (len(ia), nb rows)
    colbest = np.hstack([colbest, np.zeros((len(ia), 1))])
    steps = np.arange(int(lb.max()))
    valid = steps[None, :] < lb[:, None]
    h = colbest[:, np.where(valid, offb[:, None] + steps[None, :], nb)]  # (len(ia), len(ib), max rows)
    sum_b = h[:, :, 0].copy()
    for k in range(1, h.shape[2]):
        sum_b += h[:, :, k]
    cnt_b = np.count_nonzero((h >= cut) & valid[None, :, :], axis=2)
    longer = la[:, None] > lb[None, :]
    sub = (ia[:, None], ib[None, :])
    share[sub] = np.where(longer, cnt_b / lb[None, :], cnt_a / la[:, None])
    soft[sub] = np.where(longer, sum_b / lb[None, :], sum_a / la[:, None])
    return share, soft


def features_grid(
    a: Sequence[ArticleFeatures],
    b: Sequence[ArticleFeatures],
    need: np.ndarray | None = None,
    second: SecondVector | None = None,
) -> np.ndarray:
    """:func:`pair_features` of every pair (a[i], b[j]): a (len(a), len(b), n features) array.

    Vector features for all pairs at once (one cast and one matrix product per kind of
    vector); the set features pair by pair, only where ``need`` (a boolean (len(a), len(b))
    array) is true — the other rows are left at 0. Second-encoder vectors must already be
    there (:meth:`PairScorer.fill_second`); ``second`` is called once per article.
    """
    out = np.zeros((len(a), len(b), len(FEATURES)))
    if not len(a) or not len(b):
        return out
    out[:, :, 0] = _f64(np.stack([x.doc for x in a])) @ _f64(np.stack([y.doc for y in b])).T
    out[:, :, 1] = _f64(np.stack([x.lead for x in a])) @ _f64(np.stack([y.lead for y in b])).T
    out[:, :, 10], out[:, :, 11] = aligned_grid([x.sents for x in a], [y.sents for y in b])
    sec_a: dict[int, np.ndarray | None] = {}
    sec_b: dict[int, np.ndarray | None] = {}
    log1p = math.log1p
    for i, x in enumerate(a):
        js = list(range(len(b))) if need is None else np.flatnonzero(need[i]).tolist()
        if not js:
            continue
        xn, xm, xy, xd, xl, xlang, xcov = x.names, x.numbers, x.years, x.date, x.length, x.lang, x.covered
        xp = x.published
        xs = x.n_specific
        same = [j for j in js if b[j].lang == xlang]
        tfidf = dict(zip(same, _sparse_dots(x.terms, [b[j].terms for j in same]), strict=True))
        vals = []
        for j in js:
            y = b[j]
            covered = xcov and y.covered
            sec = 0.0
            if not covered and second is not None:
                va = sec_a[i] if i in sec_a else sec_a.setdefault(i, second(x))
                vb = sec_b[j] if j in sec_b else sec_b.setdefault(j, second(y))
                if va is not None and vb is not None:
                    sec = float(va @ vb)
            yd = y.date
            if xd is not None and yd is not None:
                gap, known = log1p(abs((xd - yd).days)), 1.0
            else:
                gap, known = -1.0, 0.0
            yn, ym, yy = y.names, y.numbers, y.years
            if xn and yn:
                both = xn & yn
                k = len(both)
                n_ov, n_sh = k / min(len(xn), len(yn)), log1p(k)
                s_sh = log1p(count_specific(both)) if k else 0.0
            else:
                n_ov, n_sh, s_sh = 0.0, 0.0, 0.0
            if xm and ym:
                k = len(xm & ym)
                m_ov, m_sh = k / min(len(xm), len(ym)), log1p(k)
            else:
                m_ov, m_sh = 0.0, 0.0
            yl = y.length
            vals.append((
                tfidf.get(j, 0.0),
                n_ov, n_sh, m_ov, m_sh,
                float(y.lang == xlang), float(covered),
                min(xl, yl) / max(xl, yl, 1),
                sec, gap, known,
                (float(not xy.isdisjoint(yy)) if xy and yy else -1.0),
                _gap(xp, y.published),
                log1p(min(len(xn), len(yn))),
                log1p(min(len(xm), len(ym))),
                s_sh, log1p(min(xs, y.n_specific)),
            ))
        out[i, np.asarray(js)[:, None], _SET_COLUMNS] = vals
    return out
