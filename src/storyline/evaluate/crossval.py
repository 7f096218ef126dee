"""Folds for out-of-sample figures: articles split by a group no fold may cut.

A group is what would leak between training and test if it were split: an ECB+ topic (its
two look-alike events), a gva incident (its episodes), a WMT document and its translations.

>>> group_folds(["a", "b", "a", "c", "d"], 2).tolist()
[0, 1, 0, 1, 0]
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np


def group_folds(groups: Sequence[str], n_folds: int) -> np.ndarray:
    """Fold number of each item: whole groups, largest first, each to the smallest fold so
    far (ties by a hash of the group name, so the split does not depend on input order)."""
    sizes = Counter(groups)
    order = sorted(sizes, key=lambda g: (-sizes[g], zlib.crc32(g.encode()), g))
    load = [0] * n_folds
    fold_of: dict[str, int] = {}
    for g in order:
        k = min(range(n_folds), key=lambda i: (load[i], i))
        fold_of[g] = k
        load[k] += sizes[g]
    return np.array([fold_of[g] for g in groups], dtype=np.int64)
