"""Approximate nearest-neighbour index over event centroids (hnswlib).

A centroid that moves is re-inserted under a new label and its old point marked deleted
(``update="reinsert"``, the default), not overwritten in place: hnswlib's in-place update of
an existing label costs ~10 insertions and, repeated over many events, wrecks the graph
(recall@10 0.55 after 60k updates of a 100k index in ``bench/results/index_updates_clusterer.md``;
nmslib/hnswlib#388, #303). Deleted points stay in memory and keep serving as graph
waypoints; they are not returned.

A search can find fewer live points than asked for when deleted ones crowd the graph (one
event re-centred a hundred times leaves a hundred deleted points around one live one), and
hnswlib then raises instead of returning fewer. :meth:`CentroidIndex.query` never asks for
more than the live points, retries a short search with a wider beam, and falls back to an
exact scan; the index is rebuilt from its live points when deleted ones reach half as many
(so it holds at most 1.5 times its live points: each takes ~2.2 KB at 512 dimensions).
"""

from __future__ import annotations

import numpy as np

_BLOCK = 2048  # points read or added per hnswlib call


class CentroidIndex:
    """Cosine ANN index keyed by string ids. Vectors can be replaced and removed."""

    def __init__(
        self,
        dim: int,
        capacity: int = 1024,
        ef: int = 64,
        m: int = 16,
        ef_construction: int = 100,
        update: str = "reinsert",
    ) -> None:
        import hnswlib

        if update not in {"reinsert", "in_place"}:
            raise ValueError(f"update must be 'reinsert' or 'in_place', not {update!r}")
        self.dim = dim
        self.update = update
        self._index = hnswlib.Index(space="ip", dim=dim)
        self._index.init_index(max_elements=capacity, ef_construction=ef_construction, M=m, random_seed=7)
        self._index.set_ef(ef)
        self._index.set_num_threads(1)
        self._label: dict[str, int] = {}
        self._key: dict[int, str] = {}
        self._next = 0
        self._live = 0
        self.ef = ef
        self.m = m
        self.ef_construction = ef_construction
        self.rebuilds = 0

    def __len__(self) -> int:
        return self._live

    @property
    def n_deleted(self) -> int:
        """Points still held for a replaced or removed centroid."""
        return self._next - self._live

    def upsert(self, key: str, vector: np.ndarray) -> None:
        label = self._label.get(key)
        if label is not None and self.update == "reinsert":
            self.remove(key)
            label = None
        if label is None:
            label = self._next
            self._next += 1
            self._label[key] = label
            self._key[label] = key
            self._live += 1
            if self._next > self._index.get_max_elements():
                self._index.resize_index(max(2 * self._index.get_max_elements(), 1024))
        self._index.add_items(np.asarray(vector, np.float32)[None, :], [label])

    def remove(self, key: str) -> None:
        label = self._label.pop(key, None)
        if label is None:
            return
        self._key.pop(label, None)
        self._index.mark_deleted(label)
        self._live -= 1
        if self.n_deleted > max(self._live // 2, 256):
            self._rebuild()

    def _rebuild(self) -> None:
        """A fresh graph of the live points only (their labels renumbered from 0)."""
        import hnswlib

        keys = list(self._label)
        index = hnswlib.Index(space="ip", dim=self.dim)
        index.init_index(
            max_elements=max(1024, 2 * len(keys)), ef_construction=self.ef_construction,
            M=self.m, random_seed=7,
        )
        index.set_ef(self.ef)
        index.set_num_threads(1)
        for start, vecs in self._blocks(keys):  # block by block: no copy of every vector at once
            index.add_items(vecs, np.arange(start, start + len(vecs)))
        self._index = index
        self._label = {k: i for i, k in enumerate(keys)}
        self._key = dict(enumerate(keys))
        self._next = self._live = len(keys)
        self.rebuilds += 1

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (key, cosine) pairs, most similar first."""
        k = min(k, self._live)
        if k <= 0:
            return []
        q = np.asarray(vector, np.float32)[None, :]
        try:
            labels, dists = self._index.knn_query(q, k=k)
        except RuntimeError:  # deleted points crowded out live ones: a wider beam, then exact
            try:
                self._index.set_ef(max(self.ef, 4 * self._next))
                labels, dists = self._index.knn_query(q, k=k)
            except RuntimeError:
                return self._exact(q[0], k)
            finally:
                self._index.set_ef(self.ef)
        return [
            (self._key[int(lab)], 1.0 - float(d))
            for lab, d in zip(labels[0], dists[0], strict=True)
            if int(lab) in self._key
        ]

    def _exact(self, q: np.ndarray, k: int) -> list[tuple[str, float]]:
        keys, vecs = self.vectors()
        sims = vecs @ q
        order = sorted(range(len(keys)), key=lambda i: (-float(sims[i]), keys[i]))[:k]
        return [(keys[i], float(sims[i])) for i in order]

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """The live keys and the vectors indexed for them (for checks of recall)."""
        keys = list(self._label)
        vecs = np.empty((len(keys), self.dim), np.float32)
        for start, block in self._blocks(keys):
            vecs[start:start + len(block)] = block
        return keys, vecs

    def _blocks(self, keys: list[str]):
        """(offset, vectors) of ``keys`` a block at a time. hnswlib's ``get_items`` peaks at
        ~22 KB per point asked for in one call (795 MB for 36k points), so it is never asked
        for more than one block."""
        for start in range(0, len(keys), _BLOCK):
            labels = [self._label[k] for k in keys[start:start + _BLOCK]]
            yield start, np.asarray(self._index.get_items(labels), np.float32)
