"""The tree model behind the pair scorer: gradient-boosted trees as flat numpy arrays.

Fitted on the development sets by ``scripts/train_scorer.py`` and shipped as
``data/scorer.npz``. The prediction code walks the exported trees with numpy, so no pickled
estimator (and no scikit-learn version) is needed at run time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .pairs import FEATURES


def load_arrays(path: str | Path | None, packaged: str, features: list[str], what: str) -> Any:
    """The arrays of a model file (default: ``data/<packaged>`` in the package), after
    checking it was fitted on ``features``."""
    if path is None:
        ref = resources.files("storyline") / "data" / packaged
        with resources.as_file(ref) as p:
            return load_arrays(p, packaged, features, what)
    z = np.load(path, allow_pickle=False)
    names = [str(s) for s in z["features"]]
    if names != features:
        raise ValueError(f"{what} {path} was fitted on other features: {names}")
    return z


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

    def interval_values(self, feature: int, low: float, high: float) -> np.ndarray:
        """One value of ``feature`` in each interval of [low, high] on which no split of any
        tree changes side: the model's output, other features fixed, takes all its values
        over [low, high] at these points (a row goes left where ``x <= threshold``, so a
        threshold stands for the interval it closes, and ``high`` for the last one)."""
        cuts = self.threshold[(self.feature == feature) & ~self.is_leaf]
        cuts = np.unique(cuts[(cuts >= low) & (cuts < high)])
        return np.concatenate([cuts, [high]])

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
        z = load_arrays(path, "scorer.npz", FEATURES, "scorer file")
        meta = {k: z[k].tolist() for k in z.files if k not in {"nodes", "tree_starts", "baseline"}}
        return cls(z["nodes"], z["tree_starts"], float(z["baseline"][0])), meta
