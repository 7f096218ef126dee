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
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from ..represent.encoder import USEEncoder

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
        self.name = self.local.name  # the same vectors as the local encoder
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
                from ..errors import MissingExtra

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
    """One encoder in one child interpreter (``python -m storyline.run.child``), started on
    first use and stopped by ``close()``.

    The child is a fresh interpreter that talks over two pipes, so it neither forks a
    process that runs threads nor re-imports the caller's main script.
    """

    def __init__(self, factory: Callable[[], Any] = USEEncoder) -> None:
        self.factory = factory
        local = factory()  # cheap: models load lazily; gives name, dim and covers()
        self.local = local
        self.name = local.name
        self.dim = local.dim
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one request at a time on the pipes
        self._waiting = 0  # requests waiting for the pipes: spare work lets them go first
        self._count = threading.Lock()
        self._to: Any = None
        self._from: Any = None

    def covers(self, lang: str) -> bool:
        return bool(self.local.covers(lang))

    def start(self) -> None:
        """Start the child now (it builds its encoder and loads the model right away)."""
        with self._lock:
            if self._proc is None:
                self._start()

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "storyline.run.child", str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._to = os.fdopen(to_child_w, "wb")
        self._from = os.fdopen(from_child_r, "rb")
        _send(self._to, self.factory)
        log.info("encoding in child process %d", self._proc.pid)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._ask(list(texts)), np.float32)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the child (``fn`` importable at module level; used to share other
        per-article work, such as preparing, when the child would otherwise wait)."""
        return self._ask(("call", fn, args))

    def spare(
        self, take: Callable[[], list[str] | None], fn: Callable[..., Any], *args: Any
    ) -> tuple[list[str], Any] | None:
        """Spare work: once no other request waits for the child, ``fn(*args, texts)`` there
        for the ``texts`` that ``take()`` returns then (None: no work, nothing is sent)."""
        while True:
            with self._lock:
                if self._proc is None:
                    raise RuntimeError("encoder process not running")
                if not self._waiting:
                    texts = take()
                    if texts is None:
                        return None
                    return texts, self._exchange(("call", fn, (*args, texts)))
            time.sleep(0.001)  # let the waiting request have the pipes

    def _ask(self, message: object) -> Any:
        with self._count:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._count:
                self._waiting -= 1
        try:
            return self._exchange(message)
        finally:
            self._lock.release()

    def _exchange(self, message: object) -> Any:
        """(Holding the lock) one request and its answer."""
        if self._proc is None:
            self._start()
        _send(self._to, message)
        status, value = _recv(self._from)
        if status != "ok":
            raise RuntimeError(f"encoder process failed: {value}")
        return value

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._proc is None:
            return
        try:
            _send(self._to, None)
            self._to.close()
            self._from.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def encode_with(encoder: Any, texts: list[str]) -> Any:
    """``encoder.encode(texts)`` (for :meth:`ProcessEncoder.spare`)."""
    return encoder.encode(texts)


def _send(fh: Any, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(len(data).to_bytes(8, "little"))
    fh.write(data)
    fh.flush()


def _recv(fh: Any) -> Any:
    return pickle.loads(_recv_bytes(fh))


def _recv_bytes(fh: Any) -> bytes:
    head = fh.read(8)
    if len(head) < 8:
        raise RuntimeError("encoder process stopped unexpectedly")
    return bytes(fh.read(int.from_bytes(head, "little")))


def serve(read_fd: int, write_fd: int) -> None:
    """The child side of :class:`ProcessEncoder`: encode each list of texts it is sent, run
    each ``("call", fn, args)``."""
    with os.fdopen(read_fd, "rb") as inp, os.fdopen(write_fd, "wb") as out:
        try:
            encoder = _recv(inp)()
            warm = getattr(encoder, "warm", None)
            if warm is not None:
                warm()  # load the model while the parent prepares its first texts
        except Exception as exc:  # noqa: BLE001 - reported to the parent on first use
            encoder, failure = None, repr(exc)
        while True:
            try:
                data = _recv_bytes(inp)
            except RuntimeError:  # parent gone
                return
            try:
                texts = pickle.loads(data)  # (a message that cannot be read here is an error)
                if texts is None:
                    return
                if isinstance(texts, tuple):  # ("call", fn, args)
                    _send(out, ("ok", texts[1](*texts[2])))
                elif encoder is None:
                    _send(out, ("error", failure))
                else:
                    _send(out, ("ok", encoder.encode(texts)))
            except Exception as exc:  # noqa: BLE001
                _send(out, ("error", repr(exc)))
