"""Encoding a run's articles chunk by chunk, ahead of the clusterer.

:class:`EncodeAhead` yields the features of stored articles in processing order. A background
thread encodes the next chunks' sentences (in the encoder's child process for large runs)
while the caller clusters the current one; the second encoder's vectors of articles in
languages the sentence encoder does not cover are queued at the start and computed by
whoever is free (:class:`~storyline.represent.ahead.SecondAhead`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

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


@dataclass
class Chunk:
    """One chunk of a run on its way to features: its sentences encoding in the background."""

    plan: VectorPlan
    future: Future[np.ndarray] | None

    def result(self) -> np.ndarray | None:
        return None if self.future is None else self.future.result()


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

        A background thread encodes the next PREFETCH chunks' sentences (in a child process
        for large runs) while the caller consumes this one. The second encoder's vectors of
        the articles in languages the sentence encoder does not cover (``leads``: article id
        -> (content hash, text)) are queued in order at the start and computed ahead (see
        :class:`~storyline.represent.ahead.SecondAhead`); this thread takes such work over
        rather than wait for sentence vectors.
        """
        second = self.second
        chunks = [ids[i : i + ENCODE_CHUNK] for i in range(0, len(ids), ENCODE_CHUNK)]
        done = 0
        with (
            ThreadPoolExecutor(1, thread_name_prefix="storyline-encode") as ahead,
            self.second_ahead(encoder) as work,
        ):
            if work is not None and second is not None and leads:  # all of them, in order
                todo = dict(leads[a] for a in ids if a in leads)
                cached = second.cached(list(todo))
                work.submit({k: t for k, t in todo.items() if k not in cached})
            in_flight: deque[Chunk] = deque()
            rest = iter(chunks)
            while True:
                # keep PREFETCH chunks encoding: a slow chunk on either side is absorbed
                while len(in_flight) <= PREFETCH and (chunk := next(rest, None)) is not None:
                    in_flight.append(self.plan_chunk(chunk, encoder, ahead))
                if not in_flight:
                    break
                queued = in_flight.popleft()
                if work is not None:  # rather than wait for the sentence vectors
                    while queued.future is not None and not queued.future.done() and work.run_one():
                        pass
                feats = self.builder.finish(queued.plan, queued.result())
                if work is not None and second is not None:
                    second.fill([f for f in feats if not f.covered])  # (computed ahead)
                    second.remember(work.drain())
                done += len(feats)
                self.progress("encode", done, len(ids))
                yield from feats
            if work is not None and second is not None:
                second.remember(work.drain())

    def plan_chunk(self, chunk: list[str], encoder: Encoder, ahead: ThreadPoolExecutor) -> Chunk:
        """Read a chunk from the store (in this thread) and start encoding it."""
        stored = {p.id: p for p in self.store.iter_articles(chunk)}
        plan = self.builder.plan([stored[a] for a in chunk])
        return Chunk(plan, ahead.submit(encoder.encode, plan.texts) if plan.texts else None)

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
