"""Where ingest workers run: Ray actors (on a local Ray or a cluster), or local child
interpreters when Ray is not installed. Each backend runs :meth:`IngestWorker.run
<storyline.run.ingest_worker.IngestWorker.run>` on batches, a few at a time."""

from __future__ import annotations

import logging
import queue
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import InputError, MissingExtra
from ..prepare.clean import RepeatedLineFilter
from .ingest_worker import BatchResult, IngestWorker, WorkerSpec

log = logging.getLogger(__name__)


class Backend:
    name = ""

    def submit(self, args: tuple[Any, ...]) -> Any: ...
    def wait(self, handle: Any) -> BatchResult: ...
    def close(self) -> None: ...


class RayBackend(Backend):
    """N Ray actors (one CPU each), each holding loaded models for many batches. An actor
    that dies is restarted and its task retried (``max_restarts``, ``max_task_retries``):
    batches are idempotent."""

    name = "Ray"

    def __init__(self, spec: WorkerSpec, workers: int, address: str | None, repeated: RepeatedLineFilter) -> None:
        try:
            import ray
        except ImportError:
            raise MissingExtra("ray", "ray") from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:  # a local Ray for this command, stopped at the end
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            self.started = True
        actor = ray.remote(num_cpus=1, max_restarts=2, max_task_retries=2)(IngestWorker)
        self.actors = [actor.remote(spec) for _ in range(workers)]
        names = ray.get([a.ready.remote() for a in self.actors])
        ref = ray.put(repeated)
        ray.get([a.use.remote(ref) for a in self.actors])
        log.info("ingesting with %d Ray actors (%s)", workers, names[0])
        self._next = 0
        self.load = [0] * workers

    def submit(self, args: tuple[Any, ...]) -> Any:
        i = min(range(len(self.actors)), key=lambda k: (self.load[k], k))  # the least busy
        self.load[i] += 1
        return i, self.actors[i].run.remote(*args)

    def wait(self, handle: Any) -> BatchResult:
        i, ref = handle
        try:
            return self.ray.get(ref)  # type: ignore[no-any-return]
        finally:
            self.load[i] -= 1

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.get(a.close.remote())
            except Exception as exc:  # noqa: BLE001 - a dead actor has nothing to close
                log.debug("ingest actor already gone: %s", exc)
        self.actors = []
        if self.started:
            self.ray.shutdown()


_worker: IngestWorker | None = None


def _setup_child(spec: WorkerSpec, repeated: RepeatedLineFilter) -> str:
    """(In a child interpreter) build this process's worker."""
    global _worker
    _worker = IngestWorker(spec)
    _worker.use(repeated)
    return _worker.ready()


def _run_child(args: tuple[Any, ...]) -> BatchResult:
    assert _worker is not None, "worker not set up"
    return _worker.run(*args)


class _Bare:
    """The child interpreters' own encoder slot stays empty: their IngestWorker encodes."""

    name = "none"
    dim = 0

    def covers(self, lang: str) -> bool:
        return True

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("this process runs ingest batches only")


class ProcessBackend(Backend):
    """The same workers in local child interpreters (``python -m storyline.run.child``: no
    fork of a threaded process, no re-import of the caller's script), for machines without
    Ray."""

    name = "local process"

    def __init__(self, spec: WorkerSpec, workers: int, repeated: RepeatedLineFilter) -> None:
        from .workers import ProcessEncoder

        self.children = [ProcessEncoder(_Bare) for _ in range(workers)]
        self.free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.threads = ThreadPoolExecutor(workers, thread_name_prefix="storyline-ingest")
        try:
            for name in self.threads.map(lambda c: c.call(_setup_child, spec, repeated), self.children):
                log.debug("ingest child ready (%s)", name)
        except BaseException:
            self.close()
            raise
        for c in self.children:
            self.free.put(c)

    def _one(self, args: tuple[Any, ...]) -> BatchResult:
        child = self.free.get()
        try:
            return child.call(_run_child, args)  # type: ignore[no-any-return]
        finally:
            self.free.put(child)

    def submit(self, args: tuple[Any, ...]) -> Future[BatchResult]:
        return self.threads.submit(self._one, args)

    def wait(self, handle: Future[BatchResult]) -> BatchResult:
        return handle.result()

    def close(self) -> None:
        self.threads.shutdown()
        for c in self.children:
            c.close()


def start_backend(
    name: str, spec: WorkerSpec, workers: int, address: str | None, repeated: RepeatedLineFilter
) -> Backend:
    """Workers of ``name`` ("ray", "process", "auto": Ray when installed or an address is
    given) with their models loaded and the run's repeated-line filter."""
    if name == "auto":
        import importlib.util

        name = "ray" if address or importlib.util.find_spec("ray") is not None else "process"
    if name == "process":
        if address:
            raise InputError("a Ray address needs the Ray backend")
        return ProcessBackend(spec, workers, repeated)
    return RayBackend(spec, workers, address, repeated)
