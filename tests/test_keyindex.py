"""The clusterer's name → events index against a plain dict of sets."""

from __future__ import annotations

import random
from collections import defaultdict

from storyline.cluster.keyindex import KeyIndex


def test_key_index_matches_a_dict_of_sets() -> None:
    rng = random.Random(3)
    idx, ref = KeyIndex(), defaultdict(set)
    keys, evs = [f"k{i}" for i in range(30)], [f"ev-{i}" for i in range(8)]
    for _ in range(5000):
        op, key, ev, other = rng.random(), rng.choice(keys), rng.choice(evs), rng.choice(evs)
        if op < 0.5:
            idx.add(key, ev)
            ref[key].add(ev)
        elif op < 0.8:
            idx.discard(key, ev)
            ref[key].discard(ev)
        elif ev in ref[key]:
            idx.move(key, ev, other)
            ref[key].discard(ev)
            ref[key].add(other)
        assert set(idx.get(key)) == ref[key]
    assert dict(idx.items()) == {k: frozenset(v) for k, v in ref.items() if v}
    assert len(idx) == sum(1 for v in ref.values() if v)
    # a key of one event holds the id itself, not a set
    assert all(isinstance(v, str) == (len(ref[k]) == 1) for k, v in idx._d.items())
