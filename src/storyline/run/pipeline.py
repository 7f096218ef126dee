"""The pipeline: read → clean → language → dates → represent → assign → describe → store.

``Pipeline.run(inputs)`` is the one entry point behind ``storyline cluster``, ``ingest``,
the HTTP API and batch re-clustering. New articles are processed, stored once, sorted by date
and fed one by one to the online clusterer (``learn_one``); the touched events are described
again (families, date, headline, summary, entities) and linked into stories.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from ..cluster.online import OnlineClusterer, order_key
from ..cluster.scorer import PairScorer
from ..describe import anatomy
from ..ingest import Skip, read_inputs
from ..model import Article, Assignment, Event, Merge, Processed, Story, utc_now
from ..prepare.article import prepare, prepare_many, use_filter
from ..prepare.clean import RepeatedLineFilter
from ..represent.ahead import SecondAhead
from ..represent.base import Encoder
from ..represent.builder import FeatureBuilder, VectorPlan, second_text
from ..represent.encoder import LazySecondVectors, USEEncoder
from ..represent.features import ArticleFeatures
from ..store import open_store
from ..store.base import Store
from ..stories.linker import StoryLinker, story_headline

log = logging.getLogger(__name__)
skip_log = logging.getLogger("storyline.skips")  # one warning per skipped input

Progress = Callable[[str, int, int], None]

ENCODE_CHUNK = 128
PREFETCH = 3  # chunks whose sentences are encoding while one is clustered
PREPARE_CHUNK = 2048  # articles prepared and stored per transaction (bounds memory)
OFFLOAD_MIN = 4 * ENCODE_CHUNK  # runs this large encode in a child process (offload)
SHARE_MIN = 64  # the child prepares / describes half of a batch at least this large


def _order_key(p: Processed) -> tuple[bool, dt.date, str]:
    """:func:`~storyline.cluster.online.sort_key` of a prepared article."""
    return order_key(p.event_date, p.id)



@dataclass
class RunReport:
    """What one run did: assignments of its input articles, skips with reasons, merges."""

    assignments: list[Assignment] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    new: int = 0
    known: int = 0
    merges: list[Merge] = field(default_factory=list)

    def summary(self) -> str:
        reasons: dict[str, int] = {}
        for s in self.skipped:
            kind = s.reason.split(": ")[0].split(" (")[0]
            reasons[kind] = reasons.get(kind, 0) + 1
        why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        events = len({a.event for a in self.assignments})
        return (
            f"{self.new} new, {self.known} already stored, {len(self.skipped)} skipped"
            + (f" ({why})" if why else "")
            + f"; {events} events, {len(self.merges)} merges"
        )


@dataclass
class _Chunk:
    """One chunk of a run on its way to features: its sentences encoding in the background."""

    plan: VectorPlan
    future: Future[np.ndarray] | None

    def result(self) -> np.ndarray | None:
        return None if self.future is None else self.future.result()


class Pipeline:
    """Wires the stages over one store. Every sub-model can be passed in.

    >>> from storyline import Pipeline, Article
    >>> from storyline.represent.encoder import HashingEncoder
    >>> p = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    >>> r = p.run([Article("a", "Earthquake hits Chile, killing 12 people.", lang="en")])
    >>> r.assignments[0].article_id, r.new
    ('a', 1)
    """

    def __init__(
        self,
        store: Store | str | Path = ":memory:",
        *,
        encoder: Encoder | None = None,
        scorer: PairScorer | None = None,
        clusterer: OnlineClusterer | None = None,
        linker: StoryLinker | None = None,
        second: bool | object = True,
        progress: Progress | None = None,
        offload: bool | None = None,
    ) -> None:
        self.store = store if isinstance(store, Store) else open_store(store)
        self.encoder = encoder or USEEncoder()
        if second is True:
            second_fn = LazySecondVectors(store=self.store)
        elif second is False or second is None:
            second_fn = None
        else:
            second_fn = second  # a callable ArticleFeatures -> vector
        self.scorer = scorer or PairScorer(second=second_fn)  # type: ignore[arg-type]
        if scorer is not None and self.scorer.second is None:
            self.scorer.second = second_fn  # type: ignore[assignment]
        self.clusterer = clusterer or OnlineClusterer(self.scorer, dim=self.encoder.dim)
        self.linker = linker or StoryLinker()
        self.progress = progress or (lambda stage, done, total: None)
        # large runs encode in a child process while this one clusters (default: ≥ 2 cores)
        self.offload = (os.cpu_count() or 1) >= 2 if offload is None else offload
        self.builder = FeatureBuilder(self.encoder, self.store)
        if self.clusterer.loader is None:  # events behind the window leave memory
            self.clusterer.loader = self._load_features
        self.repeated = RepeatedLineFilter()
        self._restore()
        self._generation = self.store.get_state("generation")

    def _reset_memory(self) -> None:
        """Forget in-memory state before catching up with the store (another writer wrote)."""
        c = self.clusterer
        self.clusterer = type(c)(
            c.scorer, threshold=c.threshold, merge_threshold=c.merge_threshold, k=c.k,
            window_days=c.window_days, max_members=c.max_members, link_members=c.link_members,
            link_min_cos=c.link_min_cos, uncovered_members=c.uncovered_members, dim=c.dim,
            retire_days=c.retire_days, retire_every=c.retire_every, loader=c.loader,
        )
        self.linker = StoryLinker()
        self.builder = FeatureBuilder(self.encoder, self.store)
        self.repeated = RepeatedLineFilter()

    # -- public -----------------------------------------------------------------------------
    def run(self, inputs: Iterable[Article | Skip] | Sequence[str], stdin: TextIO | None = None) -> RunReport:
        """Ingest and cluster. ``inputs`` are articles, or paths (files, dirs, ``-``).

        One writer at a time: runs on the same store (other processes included) wait for each
        other, and a run first catches up with what other writers stored since.
        """
        items = list(inputs)
        if items and all(isinstance(x, str | Path) for x in items):  # paths, not articles
            items = list(read_inputs([str(x) for x in items], stdin=stdin))
        with self.store.writer_lock():
            if self.store.get_state("generation") != self._generation:
                self._reset_memory()
                self._restore()
            report = self._run(items)
            self._generation = str(uuid.uuid4())
            self.store.set_state("generation", self._generation)
        return report

    def _run(self, items: list[Article | Skip]) -> RunReport:
        report = RunReport()
        order: list[str] = []
        fresh: dict[str, Article] = {}
        for x in items:
            if isinstance(x, Skip):
                report.skipped.append(x)
                skip_log.warning("skipped %s: %s", x.origin, x.reason)
                continue
            if x.id in fresh:
                if fresh[x.id].hash != x.hash:
                    skip = Skip(x.origin or x.id, f"duplicate id {x.id!r} with different text")
                    report.skipped.append(skip)
                    skip_log.warning("skipped %s: %s", skip.origin, skip.reason)
                continue
            if x.id not in order:
                order.append(x.id)
            if self.store.has_article(x.id):
                report.known += 1
                stored = self.store.get_article(x.id)
                if stored is not None and stored.article.hash != x.hash:
                    skip = Skip(x.origin or x.id, f"duplicate id {x.id!r} with different text (kept the stored one)")
                    report.skipped.append(skip)
                    skip_log.warning("skipped %s: %s", skip.origin, skip.reason)
                continue
            fresh[x.id] = x
        report.new = len(fresh)
        pending, self._orphans = self._orphans, []
        if fresh or pending:
            report.merges = self._process(list(fresh.values()), pending)
        for aid in order:
            a = self.store.get_assignment(aid)
            if a is not None:
                report.assignments.append(a)
        return report

    def learn_one(self, article: Article) -> Assignment:
        """Assign one article (the streaming entry point)."""
        rep = self.run([article])
        if not rep.assignments:
            raise ValueError(rep.skipped[0].reason if rep.skipped else "article was not assigned")
        return rep.assignments[0]

    def rebuild_stories(self) -> None:
        """Link all events into stories again from scratch (batch)."""
        self.linker = StoryLinker()
        for ev in self.store.iter_events():
            self._link_event(ev.id)

    # -- internals ---------------------------------------------------------------------------
    def _process(self, articles: list[Article], pending: Sequence[Processed] = ()) -> list[Merge]:
        """Prepare and store new articles in chunks, then encode and cluster them in date
        order (with ``pending`` ones: stored by an earlier run that stopped before assigning
        them). The next chunk is encoded while the current one is clustered.

        Only the compact features of the run stay in memory; the prepared articles are
        read back from the store chunk by chunk.
        """
        # a large run starts its encoder process now: it loads its model while we prepare
        encoder = self._chunk_encoder(len(articles) + len(pending))
        try:
            return self._process_with(encoder, articles, pending)
        finally:
            if encoder is not self.encoder:
                encoder.close()  # type: ignore[attr-defined]

    def _process_with(
        self, encoder: Encoder, articles: list[Article], pending: Sequence[Processed]
    ) -> list[Merge]:
        for a in articles:
            self.repeated.observe(a.source, a.text)
        keep_terms = len(articles) <= PREPARE_CHUNK  # else count terms again at build time
        order: list[tuple[tuple[bool, dt.date, str], str]] = []
        leads: dict[str, tuple[str, str]] = {}  # what the second encoder will surely read
        covers = getattr(self.encoder, "covers", None)

        def note_leads(items: Iterable[Processed]) -> None:
            if covers is not None:
                leads.update((p.id, (p.article.hash, second_text(p))) for p in items if not covers(p.lang))

        helper = getattr(encoder, "call", None)  # an encoder process: it prepares half
        if helper is not None and articles:
            helper(use_filter, self.repeated)
        for start in range(0, len(articles), PREPARE_CHUNK):
            chunk = self._prepare(articles[start : start + PREPARE_CHUNK], helper)
            self.progress("prepare", min(start + PREPARE_CHUNK, len(articles)), len(articles))
            with self.store.transaction():
                # an id stored meanwhile by another writer stays theirs
                chunk = [p for p in chunk if self.store.add_article(p)]
                self.store.set_state("repeated_lines", self.repeated.to_json())
            self.builder.observe(chunk, keep=keep_terms)
            order.extend((_order_key(p), p.id) for p in chunk)
            note_leads(chunk)
        waiting = [p for p in pending if p.id not in self.clusterer.event_of_]
        order.extend((_order_key(p), p.id) for p in waiting)
        note_leads(waiting)
        ids = [aid for _, aid in sorted(order)]
        n_merges = len(self.clusterer.merges_)
        scores: dict[str, float] = {}
        for i, f in enumerate(self._features_in_order(ids, encoder, leads)):
            _, scores[f.id] = self.clusterer.learn_one(f)
            if i % 50 == 0:
                self.progress("cluster", i + 1, len(ids))
        self.clusterer.repair({self.clusterer.event_of_[aid] for aid in ids})
        self.progress("cluster", len(ids), len(ids))
        merges = self.clusterer.merges_[n_merges:]
        self._write(set(ids), scores, merges, helper)
        return merges

    def _prepare(self, articles: list[Article], helper: Callable[..., object] | None) -> list[Processed]:
        """Prepare articles, the second half in the encoder process when there is one (it
        has nothing to encode yet); the same results as preparing all here."""
        half = len(articles) // 2 if helper is not None and len(articles) >= SHARE_MIN else 0
        if not half:
            return [prepare(a, self.repeated) for a in articles]
        with ThreadPoolExecutor(1, thread_name_prefix="storyline-prepare") as pool:
            theirs = pool.submit(helper, prepare_many, articles[half:])  # type: ignore[arg-type]
            mine = [prepare(a, self.repeated) for a in articles[:half]]
            return mine + theirs.result()  # type: ignore[operator]

    def _features_in_order(
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
        second = self.scorer.second if isinstance(self.scorer.second, LazySecondVectors) else None
        chunks = [ids[i : i + ENCODE_CHUNK] for i in range(0, len(ids), ENCODE_CHUNK)]
        done = 0
        with (
            ThreadPoolExecutor(1, thread_name_prefix="storyline-encode") as ahead,
            self._second_ahead(second, encoder) as work,
        ):
            if work is not None and second is not None and leads:  # all of them, in order
                todo = dict(leads[a] for a in ids if a in leads)
                cached = second.cached(list(todo))
                work.submit({k: t for k, t in todo.items() if k not in cached})
            in_flight: deque[_Chunk] = deque()
            rest = iter(chunks)
            while True:
                # keep PREFETCH chunks encoding: a slow chunk on either side is absorbed
                while len(in_flight) <= PREFETCH and (chunk := next(rest, None)) is not None:
                    in_flight.append(self._plan_chunk(chunk, encoder, ahead))
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

    def _plan_chunk(self, chunk: list[str], encoder: Encoder, ahead: ThreadPoolExecutor) -> _Chunk:
        """Read a chunk from the store (in this thread) and start encoding it."""
        stored = {p.id: p for p in self.store.iter_articles(chunk)}
        plan = self.builder.plan([stored[a] for a in chunk])
        return _Chunk(plan, ahead.submit(encoder.encode, plan.texts) if plan.texts else None)

    @contextmanager
    def _second_ahead(
        self, second: LazySecondVectors | None, encoder: Encoder
    ) -> Iterator[SecondAhead | None]:
        """A :class:`SecondAhead` for this run: its worker is the encoder process (between its
        encodings) when there is one, else a thread of this process (None without a second
        encoder)."""
        if second is None or second.failed:
            yield None
            return
        spare = getattr(encoder, "spare", None)
        remote = None
        if spare is not None:
            from .workers import encode_with

            def remote(take):  # type: ignore[no-untyped-def]
                return spare(take, encode_with, second.encoder)

        with SecondAhead(second.encode, remote) as work:
            second.ahead = work
            try:
                yield work
            finally:
                second.ahead = None

    def _chunk_encoder(self, n: int) -> Encoder:
        """The encoder for a run of ``n`` articles: for large runs on a machine with cores to
        spare (``offload``), the same encoder in a child process; else the pipeline's own."""
        spec = getattr(self.encoder, "spec", None)  # encoders that can be rebuilt elsewhere
        if not self.offload or n < OFFLOAD_MIN or spec is None:
            return self.encoder
        from .workers import ProcessEncoder

        child = ProcessEncoder(spec())
        child.start()
        return child

    def _write(
        self, fresh: set[str], scores: dict[str, float], merges: list[Merge],
        helper: Callable[..., object] | None = None,
    ) -> None:
        touched = {self.clusterer.event_of_[aid] for aid in fresh}
        touched |= {m.winner for m in merges if m.winner in self.clusterer.members_}
        order = sorted(touched)
        with ThreadPoolExecutor(1, thread_name_prefix="storyline-describe") as pool:
            theirs = self._describe_elsewhere(order, helper, pool)
            self._write_events(order, fresh, scores, merges, theirs)

    def _describe_elsewhere(
        self, order: list[str], helper: Callable[..., object] | None, pool: ThreadPoolExecutor
    ) -> dict[str, Future[list[tuple[Event, dict[str, str]]]]]:
        """The second half of ``order`` described by the encoder process (when there is one
        and it can open the store), in the background: it has nothing left to encode."""
        url = getattr(self.store, "url", "")
        if helper is None or len(order) < SHARE_MIN or not url or getattr(self.store, "memory", False):
            return {}
        jobs = []
        for ev in order[len(order) // 2 :]:
            jobs.append((ev, list(self.clusterer.members_[ev]), self._created(ev)))
        future = pool.submit(helper, anatomy.describe_stored, url, jobs)
        return {ev: future for ev, _, _ in jobs}  # type: ignore[misc]

    def _write_events(
        self, order: list[str], fresh: set[str], scores: dict[str, float], merges: list[Merge],
        theirs: dict[str, Future[list[tuple[Event, dict[str, str]]]]],
    ) -> None:
        done: dict[str, tuple[Event, dict[str, str]]] = {}
        with self.store.transaction():
            emptied: list[tuple[str, str]] = []
            for m in merges:
                self.store.record_merge(m)
                self.store.delete_event(m.loser)
                sid = self.linker.remove(m.loser)
                if sid is not None and sid not in self.linker.stories_:
                    emptied.append((sid, m.winner))
            for ev in order:
                if ev in theirs and not done:
                    done = {e.id: (e, fams) for e, fams in theirs[ev].result()}
                self._describe(ev, fresh, scores, done.get(ev))
            for sid, winner in emptied:
                # the story lived only through the merged event: it now resolves to the
                # surviving event's story
                survivor = self.clusterer.event_of_.get(self.clusterer.members_.get(winner, [""])[0], winner)
                target = self.linker.story_of_.get(survivor)
                self.store.delete_story(sid)
                if target and target != sid:
                    self.store.record_merge(Merge("story", sid, target, 1.0, utc_now(), "event merged"))
            self.store.set_state("stories", json.dumps(self.linker.to_state()))

    def _created(self, ev: str) -> str:
        """When the event was first stored (now for a new one, or a merged-away id)."""
        old = self.store.get_event(ev)
        return old.created if old is not None and old.id == ev else utc_now()

    def _describe(
        self, ev: str, fresh: set[str], scores: dict[str, float],
        described: tuple[Event, dict[str, str]] | None = None,
    ) -> None:
        ids = self.clusterer.members_[ev]
        missing = [a for a in ids if a not in fresh]
        items = anatomy.store_items(self.store, ids)
        if described is None:
            described = anatomy.describe_members(self.store, ev, items, self._created(ev))
        event, fams = described
        self.store.put_event(event)
        event.story = self._link_event(ev, event, items)
        self.store.put_event(event)
        old_scores = {}
        if missing:
            for aid in missing:
                a = self.store.get_assignment(aid)
                if a is not None:
                    old_scores[aid] = a.score
        self.store.put_assignments(
            Assignment(
                p.id, ev, event.story or ev, fams.get(p.id, p.id), p.lang,
                scores.get(p.id, old_scores.get(p.id, 1.0)),
            )
            for p in items
        )

    def _link_event(self, ev: str, event=None, items=None) -> str:  # type: ignore[no-untyped-def]
        if event is None:
            event = self.store.get_event(ev)
            if event is None:
                return ev
        if items is None:
            items = list(self.store.iter_articles(event.article_ids))
        sev = anatomy.story_event(event, self.clusterer.centroid(ev), items)
        if ev in self.linker.story_of_:
            for m in self.linker.update(sev):
                self.store.record_merge(m)
                self.store.delete_story(m.loser)
        else:
            self.linker.learn_one(sev)
        story_id = self.linker.story_of_[ev]
        self._put_story(story_id)
        return story_id

    def _put_story(self, story_id: str) -> None:
        ids = list(self.linker.stories_.get(story_id, []))
        evs = [e for e in (self.store.get_event(i) for i in ids) if e is not None]
        dates = [e.date for e in evs if e.date]
        self.store.put_story(
            Story(
                id=story_id,
                event_ids=ids,
                headline=story_headline([(e.headline or e.title, e.size, e.date) for e in evs]) if evs else "",
                summary=evs[-1].summary if evs else "",
                start=min(dates) if dates else None,
                end=max(dates) if dates else None,
            )
        )

    def _restore(self) -> None:
        """Rebuild the clusterer's memory from the store (reopening an existing database)."""
        state = self.store.get_state("repeated_lines")
        if state:
            self.repeated = RepeatedLineFilter.from_json(state)
        stories = self.store.get_state("stories")
        if stories:
            self.linker = StoryLinker.from_state(json.loads(stories))
        self._orphans: list[Processed] = []
        assigned = {a.article_id: a.event for a in self.store.iter_assignments()}
        if not self.store.count_articles():
            return
        self.clusterer.merges_ = self.store.merges("event")
        # term statistics first (one pass), then features chunk by chunk (a second pass)
        for p in self.store.iter_articles():
            if p.id in assigned:
                self.builder.observe([p])
                self.builder.forget(p.id)
            else:  # stored by a run that stopped before assigning it: clustered next run
                self._orphans.append(p)
        if self._orphans:
            self.builder.observe(self._orphans)
            log.info("%d stored articles have no event yet; they are assigned on the next run",
                     len(self._orphans))
        chunk: list[Processed] = []
        n = 0
        for p in self.store.iter_articles():
            if p.id in assigned:
                chunk.append(p)
            if len(chunk) >= 1024:
                n += self._restore_chunk(chunk, assigned)
                chunk = []
        n += self._restore_chunk(chunk, assigned)
        retired = self.clusterer.retire_old(repair=False)  # restoring merges nothing
        log.info("restored %d articles in %d events (%d behind the window retired)",
                 n, self.clusterer.n_events_, retired)

    def _load_features(self, ids: Sequence[str]) -> list[ArticleFeatures]:
        """Features of stored articles again (a retired event revived): from the vectors
        stored for them, nothing is encoded again."""
        return self.builder.build(list(self.store.iter_articles(list(ids))))

    def _restore_chunk(self, chunk: list[Processed], assigned: dict[str, str]) -> int:
        for f in self.builder.build(chunk):
            self.clusterer.restore(f, assigned[f.id])
        return len(chunk)
