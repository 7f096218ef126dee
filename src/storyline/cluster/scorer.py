"""Pair scorer: how likely two articles report the same event.

Features are computed for (article, article) pairs; a small gradient-boosted tree model, fitted
on the development sets by ``scripts/train_scorer.py`` and shipped as ``data/scorer.npz``,
turns them into a probability. The prediction code below walks the exported trees with numpy,
so no pickled estimator (and no scikit-learn version) is needed at run time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from ..represent.features import ArticleFeatures, SparseVec, sparse_cos, weighted_overlap

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

# columns computed pair by pair in PairScorer.features_grid (the others are matrix products)
_SET_COLUMNS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15])


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
    :meth:`PairScorer.features_grid` computes for many pairs at once)."""
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
        """Sum of the leaves each row reaches, plus the baseline (QuickScorer-style).

        A row leaves a tree at the leftmost leaf that no *false* node (one the row does not
        go left at, ``not x[f] <= threshold``) rules out; a false node rules out the leaves of
        its left subtree. Per feature, the nodes sorted by threshold make the false ones a
        prefix (those with threshold < x, NaN: all), so one ``searchsorted`` per feature and a
        precomputed AND of the leaf masks of each prefix give every tree's mask at once. The
        leaves reached, and the sum over them, are those of the level-by-level walk
        (:meth:`raw_walk`).
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected a 2-d array of feature rows, got shape {x.shape}")
        if not hasattr(self, "_qs"):
            self._qs = self._quickscorer()
        tables, prefixes, full, low, leaf_value, offsets = self._qs
        if not tables:
            mask = np.full((len(x), len(offsets)), full)
        else:
            # row of each feature's prefix table: one gather and one AND over all features
            rows = np.empty((len(x), len(tables)), dtype=np.int64)
            for c, (f, thresholds, base) in enumerate(tables):
                rows[:, c] = thresholds.searchsorted(x[:, f]) + base
            mask = np.bitwise_and.reduce(prefixes[rows], axis=1)
        return self.baseline + leaf_value[low[mask] + offsets].sum(axis=1)

    def _quickscorer(self) -> tuple:  # type: ignore[type-arg]
        n_nodes, n_trees = len(self.feature), len(self.tree_starts)
        tree_of = np.zeros(n_nodes, dtype=np.int64)
        leaves: list[list[int]] = []
        left_leaves: dict[int, list[int]] = {}  # internal node -> leaf bits of its left subtree
        for t, start in enumerate(self.tree_starts):
            order: list[int] = []

            def visit(i: int, t: int = t, order: list[int] = order) -> list[int]:
                tree_of[i] = t
                if self.is_leaf[i]:
                    order.append(i)
                    return [len(order) - 1]
                lo = visit(int(self.left[i]))
                left_leaves[i] = lo
                return lo + visit(int(self.right[i]))

            visit(int(start))
            leaves.append(order)
        width = max(len(o) for o in leaves)
        dtype = next(d for d in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(d).bits >= width)
        full = np.iinfo(dtype).max
        tables, blocks, base = [], [], 0
        internal = np.flatnonzero(~self.is_leaf)
        for f in sorted(set(self.feature[internal].tolist())):
            nodes = internal[self.feature[internal] == f]
            nodes = nodes[np.argsort(self.threshold[nodes], kind="stable")]
            prefix = np.full((len(nodes) + 1, n_trees), full, dtype=dtype)
            for k, i in enumerate(nodes):
                prefix[k + 1] = prefix[k]
                bits = sum(1 << b for b in left_leaves[int(i)])
                prefix[k + 1, tree_of[i]] &= dtype(full ^ bits)
            tables.append((int(f), np.ascontiguousarray(self.threshold[nodes]), base))
            blocks.append(prefix)
            base += len(prefix)
        prefixes = np.concatenate(blocks) if blocks else np.zeros((0, n_trees), dtype=dtype)
        bitcount = np.iinfo(dtype).bits
        if bitcount <= 16:  # lowest set bit of every mask value
            v = np.arange(1 << bitcount)
            low = np.zeros(1 << bitcount, dtype=np.int64)
            for b in range(bitcount - 1, -1, -1):
                low[(v >> b) & 1 == 1] = b
        else:
            raise NotImplementedError("trees with more than 16 leaves")
        leaf_value = np.zeros(n_trees * width)
        for t, order in enumerate(leaves):
            leaf_value[t * width : t * width + len(order)] = self.value[order]
        offsets = np.arange(n_trees, dtype=np.int64) * width
        return tables, prefixes, full, low, leaf_value, offsets

    def raw_walk(self, x: np.ndarray) -> np.ndarray:
        """Walk all trees at once: one numpy step per tree level (the reference for :meth:`raw`)."""
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
        """Features of the pairs (a, b) for b in ``others``: a (len(others), n features) array."""
        if fill:
            self.fill_second(a, others)
        return self.features_grid([a], others)[0]

    def features_grid(
        self,
        a: Sequence[ArticleFeatures],
        b: Sequence[ArticleFeatures],
        need: np.ndarray | None = None,
    ) -> np.ndarray:
        """:func:`pair_features` of every pair (a[i], b[j]): a (len(a), len(b), n features) array.

        Vector features for all pairs at once (one cast and one matrix product per kind of
        vector); the set features pair by pair, only where ``need`` (a boolean (len(a), len(b))
        array) is true — the other rows are left at 0. Second-encoder vectors must already be
        there (:meth:`fill_second`); ``self.second`` is called once per article.
        """
        out = np.zeros((len(a), len(b), len(FEATURES)))
        if not len(a) or not len(b):
            return out
        out[:, :, 0] = _f64(np.stack([x.doc for x in a])) @ _f64(np.stack([y.doc for y in b])).T
        out[:, :, 1] = _f64(np.stack([x.lead for x in a])) @ _f64(np.stack([y.lead for y in b])).T
        out[:, :, 10], out[:, :, 11] = aligned_grid([x.sents for x in a], [y.sents for y in b])
        second = self.second
        sec_a: dict[int, np.ndarray | None] = {}
        sec_b: dict[int, np.ndarray | None] = {}
        log1p = math.log1p
        for i, x in enumerate(a):
            js = list(range(len(b))) if need is None else np.flatnonzero(need[i]).tolist()
            if not js:
                continue
            xn, xm, xy, xd, xl, xlang, xcov = x.names, x.numbers, x.years, x.date, x.length, x.lang, x.covered
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
                    k = len(xn & yn)
                    n_ov, n_sh = k / min(len(xn), len(yn)), log1p(k)
                else:
                    n_ov, n_sh = 0.0, 0.0
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
                ))
            out[i, np.asarray(js)[:, None], _SET_COLUMNS] = vals
        return out

    def score_many(self, a: ArticleFeatures, others: Sequence[ArticleFeatures]) -> np.ndarray:
        if not others:
            return np.zeros(0)
        return self.model.predict_proba(self.features(a, others))

    def score(self, a: ArticleFeatures, b: ArticleFeatures) -> float:
        return float(self.score_many(a, [b])[0])
