"""Parallel encoding gives the same vectors as one process, with a pool or with Ray."""

from __future__ import annotations

import contextlib
import importlib.util

import numpy as np
import pytest

from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.model import Article
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline
from storyline.run.workers import MIN_PARALLEL, ParallelEncoder

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


def _partition(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {a.article_id: a.event for a in report.assignments}


def test_chunked_prefetch_matches_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encoding the next chunk in the background changes nothing: same order, same events."""
    import storyline.run.encode as enc

    arts = [Article(f"a{i:03d}", t, lang="en") for i, t in enumerate(TEXTS[:60])]
    one = Pipeline(":memory:", encoder=HashingEncoder(), second=False, offload=False).run(arts)
    monkeypatch.setattr(enc, "ENCODE_CHUNK", 7)
    seen: list[tuple[str, int, int]] = []
    many = Pipeline(
        ":memory:", encoder=HashingEncoder(), second=False, offload=False,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    ).run(arts)
    assert _partition(one) == _partition(many)
    encoded = [done for stage, done, _ in seen if stage == "encode"]
    assert encoded == sorted(encoded) and encoded[-1] == 60 and len(encoded) == 9


def test_offloaded_encoder_runs_in_a_child_and_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    import storyline.run.pipeline as pl
    import storyline.run.workers as par

    started: list[object] = []
    called: list[str] = []
    real = par.ProcessEncoder

    class Spy(real):  # type: ignore[misc, valid-type]
        def encode(self, texts):  # type: ignore[no-untyped-def]
            out = super().encode(texts)
            started.append(self._proc)
            return out

        def call(self, fn, *args):  # type: ignore[no-untyped-def]
            called.append(fn.__name__)
            return super().call(fn, *args)

    monkeypatch.setattr(pl, "ProcessEncoder", Spy)
    monkeypatch.setattr(pl, "OFFLOAD_MIN", 10)
    arts = [Article(f"a{i:03d}", t + "\nShare this article", source=f"s{i % 3}")
            for i, t in enumerate(TEXTS[:100])]  # no language given: detected while preparing
    here = Pipeline(":memory:", encoder=HashingEncoder(), second=False, offload=False)
    local = here.run(arts)
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False, offload=True)
    remote = pipe.run(arts)
    assert started and all(p is not None for p in started)  # encoded out of process
    assert _partition(local) == _partition(remote)
    assert called == ["use_filter", "prepare_many"]
    ids = [a.id for a in arts]
    # half of them were prepared in the child: the same stored results
    assert [(p.id, p.clean_text, p.lang, p.event_date, p.entities) for p in here.store.iter_articles(ids)] == [
        (p.id, p.clean_text, p.lang, p.event_date, p.entities) for p in pipe.store.iter_articles(ids)
    ]
    vec = pipe.store.get_vectors([pipe.store.get_article("a001").article.hash], pipe.builder.kind("title"))  # type: ignore[union-attr]
    assert np.allclose(next(iter(vec.values())), HashingEncoder().encode([TEXTS[1]])[0])
    small = Pipeline(":memory:", encoder=HashingEncoder(), second=False, offload=True)
    started.clear()
    small.run(arts[:5])  # below OFFLOAD_MIN: no child process
    assert not started


def test_process_encoder_reports_a_failing_encoder_and_stops() -> None:
    from storyline.run.workers import ProcessEncoder

    enc = ProcessEncoder(HashingEncoder)
    try:
        assert np.allclose(enc.encode(TEXTS[:4]), HashingEncoder().encode(TEXTS[:4]))
        with pytest.raises(RuntimeError, match="encoder process failed"):
            enc.encode([None])  # type: ignore[list-item]
        assert np.allclose(enc.encode(TEXTS[4:6]), HashingEncoder().encode(TEXTS[4:6]))
    finally:
        proc = enc._proc
        enc.close()
    assert proc is not None and proc.returncode == 0


class _NotIcelandic(HashingEncoder):
    def covers(self, lang: str) -> bool:
        return lang != "is"


class _SpySecond(HashingEncoder):
    def __init__(self) -> None:
        super().__init__(dim=64)
        self.calls: list[list[str]] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        return super().encode(texts)


@pytest.mark.parametrize("offload,spied", [(False, True), (True, True), (True, False)])
def test_second_vectors_of_uncovered_articles_are_computed_ahead_once(
    monkeypatch: pytest.MonkeyPatch, offload: bool, spied: bool
) -> None:
    """The leads of uncovered articles are queued at the start and computed ahead (by a
    thread, or by the encoder process between its encodings): each once, the same vectors,
    stored, and the same events as computing each when the clusterer asks for it. (The spy
    cannot be unpickled in the encoder process: that fails there, and this process computes
    them all the same.)"""
    import storyline.run.encode as enc
    import storyline.run.pipeline as pl
    from storyline.represent.builder import second_text
    from storyline.represent.encoder import LazySecondVectors

    monkeypatch.setattr(enc, "ENCODE_CHUNK", 10)
    monkeypatch.setattr(pl, "OFFLOAD_MIN", 10)
    arts = [
        Article(f"a{i:03d}", t, lang="is" if i % 3 == 0 else "en") for i, t in enumerate(TEXTS[:60])
    ]

    def run(ahead: bool):  # type: ignore[no-untyped-def]
        spy = _SpySecond() if spied else HashingEncoder(64)  # (this one works in the child)
        pipe = Pipeline(":memory:", encoder=_NotIcelandic(), second=LazySecondVectors(spy), offload=offload)
        pipe.scorer.second.store = pipe.store  # type: ignore[union-attr]
        # the candidate search reads the first second_rep_chars characters of leads (its own,
        # shorter texts, encoded when it searches): shorter than any lead here, to tell apart
        pipe.clusterer.second_rep_chars = 20
        if not ahead:
            monkeypatch.setattr(pipe.encoding, "second_ahead", lambda encoder: contextlib.nullcontext())
        report = pipe.run(arts)
        monkeypatch.undo()
        monkeypatch.setattr(enc, "ENCODE_CHUNK", 10)
        monkeypatch.setattr(pl, "OFFLOAD_MIN", 10)
        return pipe, report, spy

    pipe, report, spy = run(True)
    _, plain, _ = run(False)
    assert _partition(report) == _partition(plain)
    icelandic = [a.id for a in arts if a.lang == "is"]
    stored = {p.id: p for p in pipe.store.iter_articles(icelandic)}
    leads = [second_text(p) for p in stored.values()]
    here = [t for c in getattr(spy, "calls", []) for t in c if len(t) > 20]  # leads, not searches
    assert len(here) == len(set(here))  # never twice (in this process)
    if spied:
        assert set(leads) <= set(here)
    vecs = pipe.store.get_vectors([p.article.hash for p in stored.values()], pipe.scorer.second.kind)
    assert len(vecs) == len(icelandic)
    for p in stored.values():
        assert np.allclose(vecs[p.article.hash], HashingEncoder(64).encode([second_text(p)])[0])


def test_process_encoder_is_safe_from_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from storyline.run.workers import ProcessEncoder

    enc = ProcessEncoder(HashingEncoder)
    parts = [TEXTS[i : i + 25] for i in range(0, 200, 25)]
    try:
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(enc.encode, parts))
    finally:
        enc.close()
    for part, vecs in zip(parts, got, strict=True):
        assert np.allclose(vecs, HashingEncoder().encode(part))


def test_encoder_process_shares_describing_with_the_same_events(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A file store: the child reads the store and describes touched events while this
    process describes others (from the other end of the list): the same events."""
    import storyline.run.pipeline as pl
    import storyline.run.workers as par

    called: list[str] = []
    real = par.ProcessEncoder

    class Spy(real):  # type: ignore[misc, valid-type]
        def call(self, fn, *args):  # type: ignore[no-untyped-def]
            called.append(fn.__name__)
            return super().call(fn, *args)

        def spare(self, take, fn, *args):  # type: ignore[no-untyped-def]
            out = super().spare(take, fn, *args)
            if out is not None:
                called.append(fn.__name__)
            return out

    monkeypatch.setattr(pl, "ProcessEncoder", Spy)
    monkeypatch.setattr(pl, "OFFLOAD_MIN", 10)
    monkeypatch.setattr(pl, "SHARE_MIN", 4)
    # describing here is slow (the child, a fresh interpreter, is not): the child takes some
    import time

    from storyline.describe import anatomy

    real_describe = anatomy.describe_members

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.1)
        return real_describe(*args, **kwargs)

    monkeypatch.setattr(anatomy, "describe_members", slow)
    import random

    rng = random.Random(3)
    vocab = [f"{a}{b}" for a in ("kar", "mel", "dun", "sol", "vit", "rho") for b in ("ax", "en", "ir", "om", "us")]
    arts = []
    for i in range(40):  # one topic per pair of articles: about 20 events
        words = random.Random(i // 2).sample(vocab, 8)
        text = ". ".join(f"{w.title()} officials reported {rng.choice(words)} damage in {w}" for w in words)
        arts.append(Article(f"a{i:03d}", text + ".", lang="en"))

    def run(db, offload):  # type: ignore[no-untyped-def]
        # a strict clusterer: synthetic texts of one template, and about 20 events wanted
        enc = HashingEncoder()
        strict = OnlineClusterer(PairScorer(), threshold=0.95, merge_threshold=0.95, dim=enc.dim)
        pipe = Pipeline(str(db), encoder=enc, clusterer=strict, second=False, offload=offload)
        pipe.run(arts)
        events = sorted(pipe.store.iter_events(), key=lambda e: e.id)
        assigned = sorted((a.article_id, a.event, a.family) for a in pipe.store.iter_assignments())
        pipe.store.close()
        return events, assigned

    here = run(tmp_path / "here.db", False)
    there = run(tmp_path / "there.db", True)
    assert "describe_jobs" in called
    assert len(here[0]) >= 4  # SHARE_MIN: the child described some
    strip = lambda evs: [(e.id, e.headline, e.summary, e.keyphrases, e.entities, e.date, e.article_ids) for e in evs]
    assert strip(here[0]) == strip(there[0])
    assert here[1] == there[1]
