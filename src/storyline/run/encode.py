"""Encoding a run's articles chunk by chunk, ahead of the clusterer.

:class:`EncodeAhead` yields the features of stored articles in processing order. A background
thread feeds the next chunks' sentences to the encoder (its child process for large runs)
while the caller clusters the current one, and the caller encodes a chunk itself rather than
wait for one (:class:`Feeder`), so that both cores stay busy; the second encoder's vectors of
articles in languages the sentence encoder does not cover are queued at the start and
computed by whoever is free (:class:`~storyline.represent.ahead.SecondAhead`).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Self

import numpy as np

from ..represent.ahead import SecondAhead
from ..represent.base import Encoder
from ..represent.builder import FeatureBuilder, VectorPlan
from ..represent.encoder import LazySecondVectors
from ..represent.features import ArticleFeatures
from ..store.base import Store
from .workers import ProcessEncoder, encode_with

ENCODE_CHUNK = 128
PREFETCH = 3  # chunks whose sentences are encoding while one is clustered
# the clustering process encodes chunks too when it would wait for the encoder process
SHARE_ENCODING = os.environ.get("STORYLINE_SHARE_ENCODING", "1") != "0"


class Job:
    """One chunk of a run on its way to features: its texts, encoded once, by the encoder
    process (fed by the feeder thread) or by the caller."""

    def __init__(self, plan: VectorPlan) -> None:
        self.plan = plan
        self.started = not plan.texts  # nothing to encode: done at once
        self._done = threading.Event()
        self._result: np.ndarray | None = None
        self._error: BaseException | None = None
        if self.started:
            self._done.set()

    def run(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        try:
            self._result = encode(self.plan.texts)
        except BaseException as exc:  # noqa: BLE001 - raised where the result is used
            self._error = exc
        finally:
            self._done.set()

    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def result(self) -> np.ndarray | None:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result


class Feeder:
    """Feeds planned chunks, in order, to ``encoder`` from a background thread; with ``local``
    (the same encoder, in this process) the caller may take a chunk nobody has started."""

    def __init__(self, encoder: Encoder, local: Encoder | None) -> None:
        self.encoder = encoder
        self.local = local
        self._cv = threading.Condition()
        self._queue: deque[Job] = deque()  # planned, not started
        self._closed = False
        self._busy = False  # the feeder thread is encoding a chunk
        self.encoded = {"process": 0, "here": 0}
        self._thread = threading.Thread(target=self._feed, name="storyline-encode", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()
        self._thread.join()

    def add(self, plan: VectorPlan) -> Job:
        job = Job(plan)
        if not job.started:
            with self._cv:
                self._queue.append(job)
                self._cv.notify_all()
        return job

    def _claim(self, job: Job | None = None) -> Job | None:
        """(Under the lock) mark ``job`` (or the first queued one) started; None if taken."""
        if job is None:
            return self._queue.popleft() if self._queue else None
        if job.started:
            return None
        self._queue.remove(job)
        return job

    def _feed(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                job = self._claim()
                assert job is not None
                job.started = self._busy = True
            job.run(self.encoder.encode)
            with self._cv:
                self._busy = False
                self.encoded["process"] += 1

    def encode_here(self, needed: Job) -> bool:
        """Encode ``needed`` in this process when nobody started it, else the first chunk
        still queued; False when there is none, when the feeder thread is about to take it
        (it is idle), or without a local encoder."""
        if self.local is None:
            return False
        with self._cv:
            if not self._busy and self._queue and not self._closed:
                return False  # the encoder process takes it now
            job = self._claim(needed) or self._claim()
            if job is None:
                return False
            job.started = True
        job.run(self.local.encode)
        with self._cv:
            self.encoded["here"] += 1
        return True


class EncodeAhead:
    """Features of a run's stored articles, in order, encoded ahead of need.

    ``second``: the scorer's second-encoder vectors when they are a
    :class:`~storyline.represent.encoder.LazySecondVectors` (computed ahead), else None.
    """

    def __init__(
        self,
        store: Store,
        builder: FeatureBuilder,
        second: LazySecondVectors | None,
        progress: Callable[[str, int, int], None],
    ) -> None:
        self.store = store
        self.builder = builder
        self.second = second
        self.progress = progress

    def features(
        self, ids: list[str], encoder: Encoder, leads: dict[str, tuple[str, str]] | None = None
    ) -> Iterator[ArticleFeatures]:
        """Features of the stored articles ``ids``, in that order, ENCODE_CHUNK at a time.

        Chunks are planned PREFETCH ahead. With an encoder process, a background thread feeds
        it the planned chunks in order while the caller consumes this one; when the caller
        would wait for a chunk, it encodes a chunk nobody has started with the same encoder
        in this process (the one it needs, else the next one): both processes stay busy, and
        a chunk gives the same vectors wherever it is encoded. The second encoder's vectors
        of the articles in languages the sentence encoder does not cover (``leads``: article
        id -> (content hash, text)) are queued in order at the start and computed ahead (see
        :class:`~storyline.represent.ahead.SecondAhead`); the caller takes such work over
        too rather than wait.
        """
        second = self.second
        chunks = [ids[i : i + ENCODE_CHUNK] for i in range(0, len(ids), ENCODE_CHUNK)]
        done = 0
        local = self.builder.encoder if self.can_share(encoder) else None
        with self.second_ahead(encoder) as work, Feeder(encoder, local) as feeder:
            if work is not None and second is not None and leads:  # all of them, in order
                todo = dict(leads[a] for a in ids if a in leads)
                cached = second.cached(list(todo))
                jobs: dict[str, str] = {}
                for k, t in todo.items():  # the candidate search's query first, then the lead
                    if second.query_chars:
                        jobs.update([second.query_job(k, t, second.query_chars)])
                    if k not in cached:
                        jobs[k] = t
                work.submit(jobs)
            in_flight: deque[Job] = deque()
            rest = iter(chunks)
            while True:
                while len(in_flight) <= PREFETCH and (chunk := next(rest, None)) is not None:
                    in_flight.append(feeder.add(self.plan_chunk(chunk)))
                if not in_flight:
                    break
                queued = in_flight.popleft()
                while not queued.ready():
                    # rather than wait: this chunk or the next (if nobody started it), else
                    # the second encoder's queue, else wait a little
                    if feeder.encode_here(queued) or (work is not None and work.run_one()):
                        continue
                    queued.wait(0.05)
                feats = self.builder.finish(queued.plan, queued.result())
                if work is not None and second is not None:
                    second.fill([f for f in feats if not f.covered])  # (computed ahead)
                    second.remember(work.drain())
                done += len(feats)
                self.progress("encode", done, len(ids))
                yield from feats
            if work is not None and second is not None:
                second.remember(work.drain())

    def can_share(self, encoder: Encoder) -> bool:
        """Whether this process may encode chunks too: the run encodes in an encoder process
        that runs this process's own encoder (so the vectors are the same either way)."""
        if not SHARE_ENCODING or not isinstance(encoder, ProcessEncoder):
            return False
        mine = self.builder.encoder
        return getattr(mine, "name", None) == encoder.name and hasattr(mine, "spec")

    def plan_chunk(self, chunk: list[str]) -> VectorPlan:
        """Read a chunk from the store (in this thread): what it needs encoded."""
        stored = {p.id: p for p in self.store.iter_articles(chunk)}
        return self.builder.plan([stored[a] for a in chunk])

    @contextmanager
    def second_ahead(self, encoder: Encoder) -> Iterator[SecondAhead | None]:
        """A :class:`SecondAhead` for this run: its worker is the encoder process (between its
        encodings) when there is one, else a thread of this process (None without a second
        encoder)."""
        second = self.second
        if second is None or second.failed:
            yield None
            return
        remote = None
        if isinstance(encoder, ProcessEncoder):  # its process computes them when free
            spare = encoder.spare

            def remote(take):  # type: ignore[no-untyped-def]
                return spare(take, encode_with, second.encoder)

        with SecondAhead(second.encode, remote) as work:
            second.ahead = work
            try:
                yield work
            finally:
                second.ahead = None
