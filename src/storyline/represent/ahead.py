"""Second-encoder vectors computed ahead of need, by whichever worker is free.

The second encoder (multilingual-e5) reads the leads of articles in languages the sentence
encoder does not cover. The pipeline knows those articles once a run is prepared:
:class:`SecondAhead` queues their leads, in processing order, so that they are computed before
the clusterer asks for them. With an encoder child process (large runs) the child computes
them between its own encodings and the calling thread takes jobs over while it would wait
anyway; with no child, a background thread of this process computes them. A vector is the same wherever it is computed, so clustering
decisions do not change: only where the time goes.

``take`` hands over finished vectors (waiting for those being computed); keys still queued are
withdrawn and left to the caller, which computes them at once rather than waiting behind other
work.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Self

import numpy as np

log = logging.getLogger(__name__)

# runs a job in another process when that process is free: given ``take`` (returns the texts
# of one job, or None when there is none), returns (texts, vectors) or None
Remote = Callable[[Callable[[], list[str] | None]], tuple[list[str], np.ndarray] | None]


class SecondAhead:
    """A queue of (key, text) jobs for the second encoder and its worker: ``remote`` when
    given, else a thread of this process. Use as a context manager (or call :meth:`close`)."""

    def __init__(
        self, encode: Callable[[list[str]], np.ndarray | None], remote: Remote | None = None
    ) -> None:
        self._encode = encode
        self._remote = remote
        self._cv = threading.Condition()
        self._queue: deque[str] = deque()  # keys not started (withdrawn ones are skipped)
        self._texts: dict[str, str] = {}  # key -> text, queued or running
        self._running: set[str] = set()
        self._done: dict[str, np.ndarray] = {}
        self._closed = False
        self.computed = {"here": 0, "remote": 0}
        work = self._work_local if remote is None else self._work_remote
        self._thread = threading.Thread(target=work, name="storyline-second", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the caller's side ----------------------------------------------------------------
    def submit(self, jobs: Mapping[str, str]) -> None:
        """Queue texts by key (those not queued, running or done yet)."""
        with self._cv:
            for key, text in jobs.items():
                if key not in self._texts and key not in self._done:
                    self._texts[key] = text
                    self._queue.append(key)
            self._cv.notify_all()

    def run_one(self) -> bool:
        """Compute the next queued job in the calling thread (one that would otherwise wait
        for the worker). False when there is none."""
        with self._cv:
            job = self._next()
        if job is None:
            return False
        self._run_here(job)
        return True

    def take(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The vectors of ``keys`` computed ahead (waiting for those being computed now).
        Keys still queued are withdrawn: the caller computes them."""
        with self._cv:
            for key in keys:
                if key in self._texts and key not in self._running:
                    del self._texts[key]  # withdrawn; its queue entry is skipped
            while any(key in self._running for key in keys):
                self._cv.wait()
            return {key: self._done.pop(key) for key in keys if key in self._done}

    def compute(self, jobs: Mapping[str, str]) -> dict[str, np.ndarray]:
        """The vectors of ``jobs`` (key -> text), needed now. Those not queued yet go to the
        front of the queue, so that the worker takes some of them as soon as it is free,
        while the calling thread computes the others one by one (no core waits on the
        other); returns every vector computed (a key missing: its computation failed, the
        caller computes it and sees the error)."""
        keys = list(jobs)
        with self._cv:
            fresh = [k for k in keys if k not in self._texts and k not in self._done]
            for key in fresh:
                self._texts[key] = jobs[key]
            self._queue.extendleft(reversed(fresh))
            self._cv.notify_all()
        while True:
            with self._cv:
                mine = next((k for k in keys if k in self._texts and k not in self._running), None)
                if mine is None:
                    while any(key in self._running for key in keys):
                        self._cv.wait()
                    return {key: self._done.pop(key) for key in keys if key in self._done}
                self._running.add(mine)
            self._run_here([mine])

    def drain(self) -> dict[str, np.ndarray]:
        """Finished vectors nobody took (so far): the caller keeps them for later."""
        with self._cv:
            out, self._done = self._done, {}
        return out

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()
        self._thread.join()

    # -- the workers ----------------------------------------------------------------------
    def _next(self) -> list[str] | None:
        """(Under the lock) claim the next queued job: its key, or None when there is none."""
        while self._queue:
            key = self._queue.popleft()
            if key in self._texts and key not in self._running:
                self._running.add(key)
                return [key]
        return None

    def _wait_for_job(self) -> bool:
        with self._cv:
            while not self._queue and not self._closed:
                self._cv.wait()
            return not self._closed

    def _finish(self, keys: list[str], vecs: np.ndarray | None, where: str) -> None:
        with self._cv:
            for n, key in enumerate(keys):
                self._running.discard(key)
                self._texts.pop(key, None)
                if vecs is not None:
                    self._done[key] = np.asarray(vecs[n], np.float32)
            if vecs is not None:
                self.computed[where] += len(keys)
            self._cv.notify_all()

    def _run_here(self, keys: list[str]) -> None:
        try:
            vecs = self._encode([self._texts[k] for k in keys])
        except Exception:  # the caller computes it (and sees the error)
            log.exception("second encoder failed ahead of need")
            vecs = None
        self._finish(keys, vecs, "here")

    def _work_local(self) -> None:
        while self._wait_for_job():
            with self._cv:
                keys = self._next()
            if keys:
                self._run_here(keys)

    def _work_remote(self) -> None:
        assert self._remote is not None
        claimed: list[str] = []

        def take() -> list[str] | None:
            with self._cv:
                keys = self._next()
                claimed[:] = keys or []
                return [self._texts[k] for k in keys] if keys else None

        while self._wait_for_job():
            try:
                done = self._remote(take)
            except Exception:  # the caller computes the rest
                log.exception("second encoder failed in the encoder process; computing here")
                self._finish(list(claimed), None, "remote")
                return
            if done is not None:
                self._finish(list(claimed), done[1], "remote")
