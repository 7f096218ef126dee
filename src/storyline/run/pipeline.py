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
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from ..cluster.base import Scorer
from ..cluster.batch import order_key
from ..cluster.online import OnlineClusterer
from ..cluster.scorer import PairScorer
from ..ingest import Skip
from ..ingest.base import Reader
from ..model import Article, Assignment, Merge, Processed, Quarantined, utc_now
from ..prepare.article import prepare_many, prepare_or_quarantine, use_filter
from ..prepare.clean import RepeatedLineFilter
from ..represent.base import Encoder, Portable
from ..represent.builder import FeatureBuilder, second_text
from ..represent.encoder import LazySecondVectors, USEEncoder
from ..store import open_store
from ..store.base import Store
from ..stories.base import Linker
from ..stories.linker import StoryLinker
from .encode import ENCODE_CHUNK, EncodeAhead
from .inputs import RunReport, collect, triage
from .linkstate import load_linker, save_linker
from .memory import release_free_memory
from .restore import restore
from .workers import ProcessEncoder
from .write import EventWriter

log = logging.getLogger(__name__)
skip_log = logging.getLogger("storyline.skips")  # one warning per skipped input

Progress = Callable[[str, int, int], None]

PREPARE_CHUNK = 2048  # articles prepared and stored per transaction (bounds memory)
OFFLOAD_MIN = 4 * ENCODE_CHUNK  # runs this large encode in a child process (offload)
SHARE_MIN = 64  # the child prepares half of a batch / shares describing one at least this large
COMMIT_EVERY = 1000  # decisions committed, and stories linked, every this many articles ...
COMMIT_SECONDS = 30.0  # ... or committed after this many seconds, stories left for the next
MAX_ATTEMPTS = 6  # runs that stopped with an article pending before it is quarantined


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
        scorer: Scorer | None = None,
        clusterer: OnlineClusterer | None = None,
        linker: Linker | None = None,
        second: bool | object = True,
        progress: Progress | None = None,
        offload: bool | None = None,
        readers: Sequence[Reader] | None = None,
        commit_every: int = COMMIT_EVERY,
        commit_seconds: float = COMMIT_SECONDS,
    ) -> None:
        self.store = store if isinstance(store, Store) else open_store(store)
        self.encoder = encoder if encoder is not None else USEEncoder()
        if second is True:
            second_fn = LazySecondVectors(store=self.store)
        elif second is False or second is None:
            second_fn = None
        else:
            second_fn = second  # a callable ArticleFeatures -> vector
        self.scorer = scorer if scorer is not None else PairScorer(second=second_fn)  # type: ignore[arg-type]
        if scorer is not None and self.scorer.second is None:
            self.scorer.second = second_fn  # type: ignore[assignment]
        self.clusterer = clusterer if clusterer is not None else OnlineClusterer(self.scorer, dim=self.encoder.dim)
        self.linker: Linker = linker if linker is not None else StoryLinker()
        # events behind the window leave memory and are read back from the store
        self._own_loader = self.clusterer.loader is None
        self.progress = progress or (lambda stage, done, total: None)
        self.readers = readers  # how paths given to run() are read (default: every format)
        # commits every ``commit_every`` articles (stories linked then) or ``commit_seconds``
        self.commit_every = max(1, int(commit_every))
        self.commit_seconds = float(commit_seconds)
        # large runs encode in a child process while this one clusters (default: ≥ 2 cores)
        self.offload = (os.cpu_count() or 1) >= 2 if offload is None else offload
        self.repeated = RepeatedLineFilter()
        self._wire()
        self._restore()
        self._generation = self.store.get_state("generation")

    def _wire(self) -> None:
        """The run's helpers over the current store, encoder, clusterer and linker."""
        self.builder = FeatureBuilder(self.encoder, self.store)
        if self._own_loader:
            self.clusterer.loader = self.builder.load
        second = self.scorer.second
        if isinstance(second, LazySecondVectors):  # the candidate search's queries, queued ahead
            query_chars = getattr(self.clusterer, "second_query_chars", None)
            second.query_chars = query_chars() if query_chars is not None else None
        self.encoding = EncodeAhead(
            self.store, self.builder, second if isinstance(second, LazySecondVectors) else None,
            self.progress,
        )
        self.writer = self._writer()

    def _writer(self) -> EventWriter:
        return EventWriter(self.store, self.clusterer, self.linker, self.builder.kind("sents"), SHARE_MIN)

    def _restore(self) -> None:
        """Rebuild the in-memory state from the store (reopening an existing database)."""
        state = self.store.get_state("repeated_lines")
        if state:
            self.repeated = RepeatedLineFilter.from_json(state)
        # learned state only: the linker's parameters are the constructor's
        self.writer.save_all = load_linker(self.store, self.linker)
        self.writer.resume(self.store.get_state("unlinked"))  # a run stopped before linking them
        self._orphans = restore(self.store, self.builder, self.clusterer)

    def _reset_memory(self) -> None:
        """Forget in-memory state before catching up with the store (another writer wrote)."""
        self.clusterer = self.clusterer.clone(**({"loader": None} if self._own_loader else {}))
        self.linker = self.linker.clone()
        self.repeated = RepeatedLineFilter()
        self._wire()

    # -- public -----------------------------------------------------------------------------
    def run(self, inputs: object, stdin: TextIO | None = None) -> RunReport:
        """Ingest and cluster. ``inputs``: a path (file, folder, ``-`` for stdin), or a list
        of paths, dicts (JSON-like records) and :class:`Article` objects, or a DataFrame.

        One writer at a time: runs on the same store (other processes included) wait for each
        other, and a run first catches up with what other writers stored since.
        """
        # (no name here holds the inputs: the run lets each text go once it is stored)
        return self._locked(collect(inputs, stdin=stdin, readers=self.readers))

    def assign(self, order: Sequence[str] = ()) -> RunReport:
        """Assign the stored articles that have no event yet, with the one ordered clusterer:
        those stored by ingest workers (:func:`storyline.run.distributed.ingest`, ``storyline
        ingest --workers``, other machines) or by a run that stopped before assigning them.
        Their vectors are read from the store, not encoded again. The report lists the
        assignments of ``order`` (article ids) and counts the articles assigned now as new.
        """
        return self._locked([], order)

    def unassigned(self) -> list[str]:
        """Ids of the stored articles without an event that the next run assigns."""
        return [p.id for p in self._orphans]

    def adopt(self, items: Sequence[Processed], seen: str | None, generation: str) -> None:
        """Articles just stored for this pipeline by ingest workers, with the store's
        ``generation`` as it was before (``seen``) and as they left it. When no other writer
        came in between (``seen`` is the generation this pipeline knows), their term counts
        are added and they wait for :meth:`assign`; otherwise the next run catches up with
        the store as after any other writer (and finds them)."""
        if seen != self._generation:
            return
        self.builder.observe(items, keep=len(items) <= PREPARE_CHUNK)
        self._orphans = [*self._orphans, *items]
        self._generation = generation

    def _locked(self, items: list[Article | Skip], order: Sequence[str] = ()) -> RunReport:
        with self.store.writer_lock():
            if self.store.get_state("generation") != self._generation:
                self._reset_memory()
                self._restore()
            report = self._run(items, order)
            self._generation = str(uuid.uuid4())
            self.store.set_state("generation", self._generation)
        return report

    def _run(self, items: list[Article | Skip], also: Sequence[str] = ()) -> RunReport:
        report = RunReport()
        held = {q.article.id: q for q in self.store.quarantined()}
        sorted_out = triage(items, self.store, held)
        assigning = not items  # assign(): the stored articles it assigns are its new ones
        items.clear()  # (the texts live on in ``fresh`` until stored)
        order, fresh = sorted_out.order + [a for a in also if a not in sorted_out.fresh], sorted_out.fresh
        report.known, report.skipped = sorted_out.known, sorted_out.skipped
        report.new = len(fresh)
        pending, self._orphans = self._pending(held), []
        self._failed: list[Quarantined] = []
        if fresh or pending:
            articles = list(fresh.values())
            fresh.clear()  # (the run empties ``articles`` as it stores them)
            report.merges = self._process(articles, pending)
            self.store.set_state("attempts", "{}")  # the run finished: nothing is suspect
        elif self.writer.pending():  # events a stopped run stored without their stories
            self.writer.write(set(), {}, [])
        if assigning:
            report.new = len(pending)
        report.new -= len(self._failed)
        for q in self._failed:
            report.skipped.append(Skip(q.article.origin or q.article.id, f"quarantined: {q.error}"))
            skip_log.warning("quarantined %s: %s", q.article.origin or q.article.id, q.error)
        for aid in order:
            a = self.store.get_assignment(aid)
            if a is not None:
                report.assignments.append(a)
        return report

    def _pending(self, held: dict[str, Quarantined]) -> list[Processed]:
        """The stored articles still without an event that this run assigns. One that was
        pending in :data:`MAX_ATTEMPTS` runs that all stopped (killed, out of memory) is
        quarantined instead: it may be what stops them."""
        pending = [p for p in self._orphans if p.id not in held]
        if not pending:
            return []
        attempts: dict[str, int] = json.loads(self.store.get_state("attempts") or "{}")
        keep, suspects = [], []
        for p in pending:
            n = attempts.get(p.id, 0) + 1
            attempts[p.id] = n
            if n >= MAX_ATTEMPTS:
                why = f"{n - 1} runs stopped while it waited for its event"
                suspects.append(Quarantined(p.article, why, utc_now(), stored=True))
            else:
                keep.append(p)
        with self.store.transaction():
            self.store.quarantine(suspects)
            self.store.set_state("attempts", json.dumps({p.id: attempts[p.id] for p in keep}))
        return keep

    def retry_quarantined(self, ids: Iterable[str] | None = None) -> RunReport:
        """Take articles out of quarantine (all, or those of ``ids``) and run them again; one
        that fails again goes back with its new error."""
        with self.store.writer_lock():
            released = self.store.release(ids)
            self.store.set_state("attempts", "{}")
        stored = {q.article.id for q in released if q.stored}
        if stored:  # stored already: they are assigned as pending articles of the next run
            self._orphans = [p for p in self._orphans if p.id not in stored]
            self._orphans += list(self.store.iter_articles(stored))
        return self.run([q.article for q in released if not q.stored])

    def learn_one(self, article: Article) -> Assignment:
        """Assign one article (the streaming entry point)."""
        rep = self.run([article])
        if not rep.assignments:
            raise ValueError(rep.skipped[0].reason if rep.skipped else "article was not assigned")
        return rep.assignments[0]

    def rebuild_stories(self) -> None:
        """Link all events into stories again from scratch (batch)."""
        self.linker = self.linker.clone()
        self.writer = self._writer()  # (features and their term statistics stay as they are)
        for ev in self.store.iter_events():
            self.writer.link_event(ev.id)
        with self.store.transaction():
            save_linker(self.store, self.linker, full=True)
            self.writer.save_all = False
            self.store.set_state("unlinked", "")  # every stored event is linked now

    # -- internals ---------------------------------------------------------------------------
    def _process(self, articles: list[Article], pending: Sequence[Processed] = ()) -> list[Merge]:
        """Prepare and store new articles in chunks, then encode and cluster them in date
        order (with ``pending`` ones: stored by an earlier run that stopped before assigning
        them). The next chunk is encoded while the current one is clustered.

        Only the compact features of the run stay in memory: ``articles`` is emptied as they
        are stored, and the prepared articles are read back from the store chunk by chunk.
        """
        # a large run starts its encoder process now: it loads its model while we prepare
        encoder = self._chunk_encoder(len(articles) + len(pending))
        try:
            return self._process_with(encoder, articles, pending)
        finally:
            if isinstance(encoder, ProcessEncoder) and encoder is not self.encoder:
                encoder.close()

    def _process_with(
        self, encoder: Encoder, articles: list[Article], pending: Sequence[Processed]
    ) -> list[Merge]:
        for a in articles:
            self.repeated.observe(a.source, a.text)
        keep_terms = len(articles) <= PREPARE_CHUNK  # else count terms again at build time
        order: list[tuple[tuple[bool, dt.date, str], str]] = []
        leads: dict[str, tuple[str, str]] = {}  # what the second encoder will surely read
        covers = self.encoder.covers

        def note_leads(items: Iterable[Processed]) -> None:
            leads.update((p.id, (p.article.hash, second_text(p))) for p in items if not covers(p.lang))

        helper = encoder.call if isinstance(encoder, ProcessEncoder) else None  # it prepares half
        spare = encoder.spare if isinstance(encoder, ProcessEncoder) else None  # it describes when free
        if helper is not None and articles:
            helper(use_filter, self.repeated)
        total = len(articles)
        for start in range(0, total, PREPARE_CHUNK):
            chunk = self._prepare(articles[:PREPARE_CHUNK], helper)
            del articles[:PREPARE_CHUNK]  # stored below (or quarantined): the texts may go
            self.progress("prepare", min(start + PREPARE_CHUNK, total), total)
            failed = [p for p in chunk if isinstance(p, Quarantined)]
            with self.store.transaction():
                self.store.quarantine(failed)
                self._failed.extend(failed)
                # an id stored meanwhile by another writer stays theirs
                chunk = [p for p in chunk if isinstance(p, Processed) and self.store.add_article(p)]
                self.store.set_state("repeated_lines", self.repeated.to_json())
                self.store.set_state("encoder", self.encoder.name)  # whose vectors describe events
            self.builder.observe(chunk, keep=keep_terms)
            order.extend((order_key(p.event_date, p.id), p.id) for p in chunk)
            note_leads(chunk)
            del chunk  # (the prepared texts are read back from the store when encoded)
        waiting = [p for p in pending if p.id not in self.clusterer.event_of_]
        order.extend((order_key(p.event_date, p.id), p.id) for p in waiting)
        note_leads(waiting)
        order.sort()
        ids = [aid for _, aid in order]
        del order  # (a long run's sort keys: about 200 bytes an article)
        n_merges = len(self.clusterer.merges_)
        scores: dict[str, float] = {}
        done = n_merges  # merges written so far
        batch: list[str] = []  # assigned in memory, not yet committed
        since = time.monotonic()
        for i, f in enumerate(self.encoding.features(ids, encoder, leads)):
            _, scores[f.id] = self.clusterer.learn_one(f)
            batch.append(f.id)
            if i % 50 == 0:
                self.progress("cluster", i + 1, len(ids))
            last = i + 1 == len(ids)  # (then the final commit below, shared with the child)
            # progress that survives a kill; stories only at counted commits (see EventWriter)
            counted = (i + 1) % self.commit_every == 0
            if not last and (counted or time.monotonic() - since >= self.commit_seconds):
                done = self._commit(batch, scores, done, spare, link=counted)
                batch, since = [], time.monotonic()
        self.clusterer.repair({self.clusterer.event_of_[aid] for aid in ids})
        self.progress("cluster", len(ids), len(ids))
        self._commit(batch, scores, done, spare)
        return self.clusterer.merges_[n_merges:]

    def _commit(
        self, batch: list[str], scores: dict[str, float], done: int,
        spare: Callable[..., object] | None, link: bool = True,
    ) -> int:
        """Write the decisions on ``batch`` and the merges after the first ``done`` (one
        transaction), stories linked when ``link``; returns how many merges are written now."""
        merges = self.clusterer.merges_[done:]
        if batch or merges or (link and self.writer.pending()):
            self.writer.write(set(batch), scores, merges, spare, link=link)
            log.info("committed the events of %d articles (%d merges)%s", len(batch), len(merges),
                     "" if link else ", stories at the next counted commit")
            release_free_memory()  # what the commit and the retiring before it freed
        return len(self.clusterer.merges_)

    def _prepare(
        self, articles: list[Article], helper: Callable[..., object] | None
    ) -> list[Processed | Quarantined]:
        """Prepare articles, the second half in the encoder process when there is one (it
        has nothing to encode yet); the same results as preparing all here."""
        half = len(articles) // 2 if helper is not None and len(articles) >= SHARE_MIN else 0
        if not half:
            return [prepare_or_quarantine(a, self.repeated) for a in articles]
        with ThreadPoolExecutor(1, thread_name_prefix="storyline-prepare") as pool:
            theirs = pool.submit(helper, prepare_many, articles[half:])  # type: ignore[arg-type]
            mine = [prepare_or_quarantine(a, self.repeated) for a in articles[:half]]
            return mine + theirs.result()  # type: ignore[operator]

    def _chunk_encoder(self, n: int) -> Encoder:
        """The encoder for a run of ``n`` articles: for large runs on a machine with cores to
        spare (``offload``), the same encoder in a child process; else the pipeline's own."""
        if not self.offload or n < OFFLOAD_MIN or not isinstance(self.encoder, Portable):
            return self.encoder
        child = ProcessEncoder(self.encoder.spec())
        child.start()
        return child
