"""Approximate nearest-neighbour index over event centroids (hnswlib), updated in place."""

from __future__ import annotations

import numpy as np


class CentroidIndex:
    """Cosine ANN index keyed by string ids. Vectors can be replaced and removed."""

    def __init__(self, dim: int, capacity: int = 1024, ef: int = 64, m: int = 16) -> None:
        import hnswlib

        self.dim = dim
        self._index = hnswlib.Index(space="ip", dim=dim)
        self._index.init_index(max_elements=capacity, ef_construction=100, M=m, random_seed=7)
        self._index.set_ef(ef)
        self._index.set_num_threads(1)
        self._label: dict[str, int] = {}
        self._key: dict[int, str] = {}
        self._next = 0
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def upsert(self, key: str, vector: np.ndarray) -> None:
        if key in self._label:
            label = self._label[key]
        else:
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

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (key, cosine) pairs, most similar first."""
        k = min(k, self._live)
        if k <= 0:
            return []
        labels, dists = self._index.knn_query(np.asarray(vector, np.float32)[None, :], k=k)
        return [
            (self._key[int(lab)], 1.0 - float(d))
            for lab, d in zip(labels[0], dists[0], strict=True)
            if int(lab) in self._key
        ]
