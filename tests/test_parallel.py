"""Parallel encoding gives the same vectors as one process, with a pool or with Ray."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from storyline.model import Article
from storyline.parallel import MIN_PARALLEL, ParallelEncoder
from storyline.pipeline import Pipeline
from storyline.represent.encoder import HashingEncoder

TEXTS = [f"Storm number {i} hits the coast of region {i % 7} with winds of {i * 3} km/h" for i in range(MIN_PARALLEL + 40)]


def test_process_pool_matches_one_process() -> None:
    enc = ParallelEncoder(2, factory=HashingEncoder, backend="process")
    try:
        got = enc.encode(TEXTS)
    finally:
        enc.close()
    assert got.shape == (len(TEXTS), HashingEncoder().dim)
    assert np.allclose(got, HashingEncoder().encode(TEXTS))


def test_small_batches_stay_in_process() -> None:
    enc = ParallelEncoder(2, factory=HashingEncoder, backend="process")
    assert np.allclose(enc.encode(TEXTS[:3]), HashingEncoder().encode(TEXTS[:3]))
    assert enc._pool is None


def test_pipeline_with_parallel_encoder_is_a_single_ordered_writer() -> None:
    arts = [Article(f"a{i}", t, lang="en") for i, t in enumerate(TEXTS[:60])]
    one = Pipeline(":memory:", encoder=HashingEncoder(), second=False).run(arts)
    enc = ParallelEncoder(2, factory=HashingEncoder, backend="process")
    try:
        two = Pipeline(":memory:", encoder=enc, second=False).run(arts)
    finally:
        enc.close()
    assert [a.event for a in one.assignments] == [a.event for a in two.assignments]


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray not installed (storyline[ray])")
@pytest.mark.slow
def test_ray_actors_match_one_process() -> None:
    import ray

    enc = ParallelEncoder(2, factory=HashingEncoder, backend="ray")
    try:
        got = enc.encode(TEXTS)
    finally:
        ray.shutdown()
    assert np.allclose(got, HashingEncoder().encode(TEXTS))
