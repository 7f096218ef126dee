"""The ingest worker: prepares and encodes a batch of articles, and stores it or returns it.

Runs in a Ray actor or a local child interpreter (:mod:`storyline.run.backends`); the driver
is :func:`storyline.run.distributed.ingest`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import Article, Processed, Quarantined
from ..prepare.article import prepare_or_quarantine
from ..prepare.clean import RepeatedLineFilter
from ..represent.builder import FeatureBuilder, second_text
from ..store.base import Store

log = logging.getLogger(__name__)

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
                vecs = self._second(list(leads.values()))
                if vecs is not None:
                    kind = second_kind(self.second)
                    vectors[kind] = {h: np.asarray(v, np.float32) for h, v in zip(leads, vecs, strict=True)}
                    out.second = len(leads)
        if self.spec.url is None:
            out.processed, out.vectors = ok, vectors
        else:
            out.stored = store_batch(self.store(), ok, vectors)
        return out

    def _second(self, texts: list[str]) -> np.ndarray | None:
        """The second encoder's vectors, or None when it fails here (logged once; the
        clusterer then computes what it needs itself, as without workers)."""
        try:
            return np.asarray(self.second.encode(texts), np.float32)
        except Exception as exc:  # noqa: BLE001 - a missing extra must not stop ingesting
            log.warning("second encoder unavailable in this worker: %s", exc)
            self.second = None
            return None

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
