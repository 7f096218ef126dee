"""Parallel encoding of large archives: the encoder is the bottleneck, the clusterer is not.

``ParallelEncoder(workers=N)`` spreads sentence encoding over N processes, each running its
own single-threaded encoder: Ray actors when Ray is installed (``storyline[ray]``; the same
code runs on a Ray cluster when ``ray.init(address=...)`` was called first), else a local
process pool. The clusterer stays a single ordered writer in the calling process.

``ProcessEncoder`` runs one encoder in one child process: the pipeline encodes the next chunk
there while the calling process clusters the current one, so on two cores clustering costs
little wall time on top of encoding.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from .represent.encoder import USEEncoder

log = logging.getLogger(__name__)

MIN_PARALLEL = 256  # below this many texts, one process is faster than shipping them out

_worker_encoder: Any = None


def _init_worker(factory: Callable[[], Any]) -> None:
    global _worker_encoder
    _worker_encoder = factory()


def _encode_chunk(texts: list[str]) -> np.ndarray:
    return _worker_encoder.encode(texts)


def _chunks(texts: Sequence[str], n: int) -> list[list[str]]:
    size = -(-len(texts) // n)
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


class ParallelEncoder:
    """An :class:`~storyline.represent.base.Encoder` that encodes with several processes."""

    def __init__(
        self,
        workers: int = 2,
        factory: Callable[[], Any] = USEEncoder,
        backend: str = "auto",
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.factory = factory
        self.local = factory()
        self.name = f"{self.local.name}x{workers}"
        self.dim = self.local.dim
        self.backend = backend
        self._pool: ProcessPoolExecutor | None = None
        self._actors: list[Any] | None = None

    def covers(self, lang: str) -> bool:
        return bool(self.local.covers(lang))

    def _use_ray(self) -> bool:
        if self.backend == "process":
            return False
        try:
            import ray  # noqa: F401
        except ImportError:
            if self.backend == "ray":
                from .errors import MissingExtra

                raise MissingExtra("ray", "ray") from None
            return False
        return True

    def _ray_actors(self) -> list[Any]:
        if self._actors is None:
            import ray

            if not ray.is_initialized():
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False)

            @ray.remote(num_cpus=1)
            class _Encoder:  # pragma: no cover - runs in Ray workers
                def __init__(self, factory: Callable[[], Any]) -> None:
                    self.encoder = factory()

                def encode(self, texts: list[str]) -> np.ndarray:
                    return self.encoder.encode(texts)

            self._actors = [_Encoder.remote(self.factory) for _ in range(self.workers)]
            log.info("encoding with %d Ray actors", self.workers)
        return self._actors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.workers == 1 or len(texts) < MIN_PARALLEL:
            return self.local.encode(texts)
        parts = _chunks(texts, self.workers)
        if self._use_ray():
            import ray

            actors = self._ray_actors()
            out = ray.get([a.encode.remote(p) for a, p in zip(actors, parts, strict=False)])
        else:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, initializer=_init_worker, initargs=(self.factory,)
                )
                log.info("encoding with %d local processes", self.workers)
            out = list(self._pool.map(_encode_chunk, parts))
        return np.concatenate(out).astype(np.float32)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._actors = None


class ProcessEncoder:
    """One encoder in one child process (started on first use, ``close()`` stops it)."""

    def __init__(self, factory: Callable[[], Any] = USEEncoder) -> None:
        self.factory = factory
        local = factory()  # cheap: models load lazily; gives name, dim and covers()
        self.local = local
        self.name = local.name
        self.dim = local.dim
        self._pool: ProcessPoolExecutor | None = None

    def covers(self, lang: str) -> bool:
        return bool(self.local.covers(lang))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._pool is None:
            # spawn: a clean interpreter, whatever threads the parent runs
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self.factory,),
            )
            log.info("encoding in a child process")
        return np.asarray(self._pool.submit(_encode_chunk, list(texts)).result(), np.float32)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
