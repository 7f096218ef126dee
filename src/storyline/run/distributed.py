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
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import InputError
from ..ingest import Skip
from ..model import Processed, Quarantined
from ..represent.builder import vector_kind
from ..represent.encoder import LazySecondVectors
from ..store.base import Store
from .backends import start_backend
from .ingest_worker import BatchResult, IngestWorker, WorkerSpec, second_kind, store_batch
from .inputs import collect, triage

__all__ = ["BatchResult", "IngestReport", "IngestWorker", "WorkerSpec", "ingest", "store_batch"]

if TYPE_CHECKING:
    from .pipeline import Pipeline

log = logging.getLogger(__name__)

BATCH = 64  # articles per task: large enough to batch the encoder, small enough to spread
BACKENDS = ("auto", "ray", "process")
IN_FLIGHT = 2  # tasks queued per worker (one running, one waiting: no idle gap between them)


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
        who = f" by {self.workers} {self.backend} worker(s)" if self.backend else ""
        return (
            f"{len(self.stored)} stored{who} in {self.seconds:.1f}s, "
            f"{self.known} already stored, {len(self.skipped)} skipped"
        )


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
    engine = start_backend(backend, spec, workers, address, repeated)
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
