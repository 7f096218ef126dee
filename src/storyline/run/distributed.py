"""Distributed ingest: preparing and encoding on Ray workers that store articles and vectors.

``ingest(pipeline, inputs, workers=N, address=None)`` reads the inputs, sorts out what the
store has, and sends batches of new articles to N workers (Ray actors; a local Ray is started
when no address is given). Each worker prepares its batch (cleaning, language, dates,
entities), encodes the sentence and title vectors and the second encoder's vectors of the
articles in languages the sentence encoder does not cover, and returns or stores them:

* **Postgres** (several machines): the worker writes the articles and vectors itself, in one
  transaction per batch. Both writes ignore what is stored already (``ON CONFLICT DO
  NOTHING``), so a task that Ray retries, or a batch that two drivers send, stores nothing
  twice.
* **SQLite** (one machine, one writer): the worker returns them and the driver writes them.

Nothing is assigned here: :meth:`Pipeline.assign <storyline.run.pipeline.Pipeline.assign>`
(``storyline assign``, or ``cluster``/``ingest`` right after) runs the one ordered clusterer
over the stored, unassigned articles and reads their vectors back instead of encoding again.
Workers see batches in input order, so the vectors (and so the assignments) do not depend on
how many workers there are.

Without Ray, ``backend="process"`` runs the same workers in a local process pool.
"""

from __future__ import annotations

import logging
import queue
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..errors import InputError, MissingExtra
from ..ingest import Skip
from ..model import Article, Processed, Quarantined
from ..prepare.article import prepare_or_quarantine
from ..prepare.clean import RepeatedLineFilter
from ..represent.builder import FeatureBuilder, second_text, vector_kind
from ..represent.encoder import LazySecondVectors
from ..store.base import Store
from .inputs import collect, triage

if TYPE_CHECKING:
    from .pipeline import Pipeline

log = logging.getLogger(__name__)

BATCH = 64  # articles per task: large enough to batch the encoder, small enough to spread
BACKENDS = ("auto", "ray", "process")
IN_FLIGHT = 2  # tasks queued per worker (one running, one waiting: no idle gap between them)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker builds: the sentence encoder (a picklable factory), the second encoder
    (picklable, or None), and the store it writes to (None: it returns what it made)."""

    encoder: Callable[[], Any]
    second: Any | None = None
    url: str | None = None


@dataclass
class BatchResult:
    """What a worker made of one batch. ``processed`` and ``vectors`` (kind -> hash ->
    vector) are empty when the worker stored them itself; ``stored`` then names the articles
    it stored (those another writer had not stored first)."""

    quarantined: list[Quarantined] = field(default_factory=list)
    processed: list[Processed] = field(default_factory=list)
    vectors: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    stored: list[str] = field(default_factory=list)
    texts: int = 0  # texts the sentence encoder read
    second: int = 0  # texts the second encoder read


def store_batch(
    store: Store, processed: Sequence[Processed], vectors: dict[str, dict[str, np.ndarray]]
) -> list[str]:
    """Store a batch's vectors and articles in one transaction; returns the ids stored now.
    Vectors go first: a clusterer never sees an article of the batch without its vectors."""
    with store.transaction():
        for kind, vecs in vectors.items():
            if vecs:
                store.put_vectors(vecs, kind)
        return [p.id for p in processed if store.add_article(p)]


class IngestWorker:
    """Prepares, encodes and (with a store URL) stores batches of articles.

    Holds nothing between batches but its models, the repeated-line filter of the run and its
    store connection: running a batch twice gives the same rows once.
    """

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.encoder = spec.encoder()
        self.builder = FeatureBuilder(self.encoder)  # no store: the driver says what is cached
        self.second = spec.second
        self.repeated: RepeatedLineFilter | None = None
        self._store: Store | None = None

    def ready(self) -> str:
        """Load the models now (so that the first batch does not wait for them)."""
        warm = getattr(self.encoder, "warm", None)
        if warm is not None:
            warm()
        return self.encoder.name

    def use(self, repeated: RepeatedLineFilter | None) -> None:
        """The run's repeated-line filter (every worker prepares with the same one)."""
        self.repeated = repeated

    def run(
        self, articles: Sequence[Article], have: set[str] | frozenset[str] = frozenset(),
        have_second: set[str] | frozenset[str] = frozenset(),
    ) -> BatchResult:
        """Prepare and encode ``articles``; ``have``: content hashes whose sentence and title
        vectors are stored already, ``have_second``: those whose second vectors are."""
        out = BatchResult()
        prepared = [prepare_or_quarantine(a, self.repeated) for a in articles]
        ok = [p for p in prepared if isinstance(p, Processed)]
        out.quarantined = [q for q in prepared if isinstance(q, Quarantined)]
        plan = self.builder.plan([p for p in ok if p.article.hash not in have])
        mat = self.encoder.encode(plan.texts) if plan.texts else None
        sents, titles = self.builder.vectors(plan, mat)
        out.texts = len(plan.texts)
        vectors = {self.builder.kind("sents"): sents, self.builder.kind("title"): titles}
        if self.second is not None:
            covers = self.encoder.covers
            leads = {
                p.article.hash: second_text(p) for p in ok
                if not covers(p.lang) and p.article.hash not in have_second
            }
            if leads:
                vecs = self.second.encode(list(leads.values()))
                vectors[second_kind(self.second)] = {h: np.asarray(v, np.float32) for h, v in zip(leads, vecs, strict=True)}
                out.second = len(leads)
        if self.spec.url is None:
            out.processed, out.vectors = ok, vectors
        else:
            out.stored = store_batch(self.store(), ok, vectors)
        return out

    def store(self) -> Store:
        if self._store is None:
            from ..store import open_store

            assert self.spec.url is not None
            self._store = open_store(self.spec.url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def second_kind(encoder: Any) -> str:
    """The store's kind of the second encoder's vectors (as :class:`LazySecondVectors` reads them)."""
    return f"{getattr(encoder, 'name', type(encoder).__name__)}:lead"


@dataclass
class IngestReport:
    """What a distributed ingest stored: new articles (by id), the input ids in input order,
    how many were stored already, the skips (quarantined ones included), texts encoded."""

    stored: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    known: int = 0
    skipped: list[Skip] = field(default_factory=list)
    texts: int = 0
    second: int = 0
    workers: int = 0
    backend: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.stored)} stored by {self.workers} {self.backend} worker(s) in {self.seconds:.1f}s, "
            f"{self.known} already stored, {len(self.skipped)} skipped"
        )


# -- backends: something that runs IngestWorker.run on batches, a few at a time ----------------
class _Backend:
    name = ""

    def submit(self, args: tuple[Any, ...]) -> Any: ...
    def wait(self, handle: Any) -> BatchResult: ...
    def close(self) -> None: ...


class _RayBackend(_Backend):
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
            except Exception:  # noqa: BLE001 - a dead actor has nothing to close
                pass
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


class _ProcessBackend(_Backend):
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


def _backend(
    name: str, spec: WorkerSpec, workers: int, address: str | None, repeated: RepeatedLineFilter
) -> _Backend:
    if name == "auto":
        import importlib.util

        name = "ray" if address or importlib.util.find_spec("ray") is not None else "process"
    if name == "process":
        if address:
            raise InputError("a Ray address needs the Ray backend")
        return _ProcessBackend(spec, workers, repeated)
    return _RayBackend(spec, workers, address, repeated)


# -- the driver ---------------------------------------------------------------------------------
def worker_spec(pipeline: Pipeline, direct: bool) -> WorkerSpec:
    """The workers' encoders: the pipeline's own (rebuilt from their specs), so that the vectors
    are the ones its clusterer would have computed; ``direct``: they write to its store."""
    spec = getattr(pipeline.encoder, "spec", None)
    if spec is None:
        raise InputError(
            f"encoder {type(pipeline.encoder).__name__} cannot run in workers (it has no spec())"
        )
    second = pipeline.scorer.second
    second_enc = second.encoder if isinstance(second, LazySecondVectors) and not second.failed else None
    return WorkerSpec(spec(), second_enc, pipeline.store.url if direct else None)


def writes_directly(store: Store) -> bool:
    """Workers write to a shared server store themselves; SQLite has one writer: the driver."""
    return str(getattr(store, "url", "")).startswith(("postgres://", "postgresql://", "postgresql+psycopg://"))


def ingest(
    pipeline: Pipeline,
    inputs: object,
    *,
    workers: int = 2,
    address: str | None = None,
    backend: str = "auto",
    batch: int = BATCH,
    stdin: TextIO | None = None,
) -> IngestReport:
    """Store ``inputs`` (as :meth:`Pipeline.run` reads them) with their vectors, prepared
    and encoded by ``workers`` workers; assign nothing. The pipeline then knows the new
    articles: :meth:`Pipeline.assign` clusters them."""
    if workers < 1:
        raise InputError("workers must be at least 1")
    if backend not in BACKENDS:
        raise InputError(f"unknown ingest backend {backend!r} ({', '.join(BACKENDS)})")
    t0 = time.perf_counter()
    store = pipeline.store
    report = IngestReport(workers=workers)
    sorted_out = triage(collect(inputs, stdin=stdin, readers=pipeline.readers), store)
    report.order, report.known, report.skipped = sorted_out.order, sorted_out.known, sorted_out.skipped
    fresh = list(sorted_out.fresh.values())
    generation = store.get_state("generation")
    if not fresh:
        report.seconds = time.perf_counter() - t0
        return report
    repeated = pipeline.repeated  # the store's filter, with the new articles observed
    for a in fresh:
        repeated.observe(a.source, a.text)
    with store.transaction():
        store.set_state("repeated_lines", repeated.to_json())
        store.set_state("encoder", pipeline.encoder.name)  # whose vectors describe events
    direct = writes_directly(store)
    spec = worker_spec(pipeline, direct)
    kinds = (vector_kind(pipeline.encoder.name, "sents"), vector_kind(pipeline.encoder.name, "title"))
    second = second_kind(spec.second) if spec.second is not None else None
    engine = _backend(backend, spec, workers, address, repeated)
    report.backend = engine.name
    stored: list[Processed] = []
    quarantined: list[Quarantined] = []

    def tasks() -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(fresh), batch):
            part = fresh[start : start + batch]
            hashes = [a.hash for a in part]
            have = store.vector_keys(hashes, kinds[0]) & store.vector_keys(hashes, kinds[1])
            have_second = store.vector_keys(hashes, second) if second else set()
            yield part, have, have_second

    try:
        pending: list[tuple[Any, int]] = []
        todo = tasks()
        done = 0
        while True:
            while len(pending) < IN_FLIGHT * workers and (args := next(todo, None)) is not None:
                pending.append((engine.submit(args), len(args[0])))
            if not pending:
                break
            handle, n = pending.pop(0)
            res = engine.wait(handle)  # in order: the driver writes in input order
            done += n
            quarantined += res.quarantined
            if direct:
                report.stored += res.stored
            else:
                ids = set(store_batch(store, res.processed, res.vectors))
                report.stored += [p.id for p in res.processed if p.id in ids]
                stored += [p for p in res.processed if p.id in ids]
            report.texts += res.texts
            report.second += res.second
            pipeline.progress("ingest", done, len(fresh))
    finally:
        engine.close()
    if direct:
        stored = list(store.iter_articles(report.stored))
    with store.writer_lock():
        store.quarantine(quarantined)
        current = store.get_state("generation") == generation
        new_generation = str(uuid.uuid4())
        store.set_state("generation", new_generation)  # long-lived pipelines catch up
        if current:  # else another writer came in between: the pipeline catches up later
            pipeline.adopt(stored, generation, new_generation)
    for q in quarantined:
        report.skipped.append(Skip(q.article.origin or q.article.id, f"quarantined: {q.error}"))
        logging.getLogger("storyline.skips").warning("quarantined %s: %s", q.article.origin or q.article.id, q.error)
    report.seconds = time.perf_counter() - t0
    log.info("%s", report.summary())
    return report
