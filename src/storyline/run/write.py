"""Writing a run's results: describe the touched events, link them into stories, store.

:class:`EventWriter` turns the clusterer's decisions into stored events (families, date,
headline, summary, entities), assignments and stories, in one transaction. With an encoder
child process and enough events, the child describes some of them meanwhile, whenever it has
nothing to encode (:class:`SharedDescribe`); the results are the same.

A write may leave the story linking for later (``link=False``: the pipeline's timed commits).
Stories depend on which events the linker sees together and how grown they are, so they are
linked only at points that do not depend on the machine's speed; the events stored in between
keep the story they had (none yet for a new one: ``Event.story`` None, ``Assignment.story``
empty) and are linked, in the same order as if they had been written there, at the next
linking write. What waits is kept in the store's state (``unlinked``), so a run that stops
before its next linking point leaves it to the next write that links.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..cluster.online import OnlineClusterer
from ..describe import anatomy
from ..describe.display import main_event
from ..model import Assignment, Event, Merge, Processed, Story, utc_now
from ..store.base import Store
from ..stories.base import Linker
from ..stories.event import StoryEvent
from .linkstate import save_linker

log = logging.getLogger(__name__)

Described = tuple[Event, dict[str, str]]  # an event record and its members' families
# ProcessEncoder.spare: (take, fn, *args) -> (jobs, fn(*args, jobs)) or None
Spare = Callable[..., Any]
SHARE_BATCH = 4  # events the encoder process describes per request


class SharedDescribe:
    """Events described by two processes at once: this one takes them from the start of the
    list (:meth:`result`, in order), the encoder process from the end, a few at a time,
    whenever it is free (between its encodings); they meet somewhere in between. The
    results are the same wherever an event is described (:func:`anatomy.describe_members`
    over the store)."""

    def __init__(self, jobs: list[tuple[str, list[str], str]], spare: Spare, url: str, kind: str) -> None:
        self.jobs = jobs
        self._spare = spare
        self._url, self._kind = url, kind
        self._cv = threading.Condition()
        self._front = 0  # jobs before this index: taken by this process
        self._back = len(jobs)  # jobs from this index: taken by the encoder process
        self._done: dict[int, Described] = {}
        self._failed = False
        self._closed = False
        self._taking = 0  # the first job of the batch the encoder process is describing
        self.counts = {"here": 0, "there": 0}
        self._thread = threading.Thread(target=self._work, name="storyline-describe", daemon=True)
        self._thread.start()

    def result(self, n: int) -> Described | None:
        """The description of job ``n`` when the encoder process made it (waiting for it if it
        is at work on it); None when this process is to describe it (it is taken now)."""
        with self._cv:
            if n >= self._back:
                while n not in self._done and not self._failed:
                    self._cv.wait()
                if n in self._done:
                    self.counts["there"] += 1
                    return self._done.pop(n)
            self._front = max(self._front, n + 1)
            self.counts["here"] += 1
            return None

    def close(self) -> None:
        """Nothing more to take. Not waiting for the thread: it may be waiting for the encoder
        process to finish an encoding (everything it took is done by now)."""
        with self._cv:
            self._closed = True
            self._front = len(self.jobs)

    def _take(self) -> list[tuple[str, list[str], str]] | None:
        with self._cv:
            end = self._back
            start = max(self._front, end - SHARE_BATCH)
            if start >= end:
                return None
            self._back = self._taking = start
            return self.jobs[start:end]

    def _work(self) -> None:
        try:
            while True:
                done = self._spare(self._take, anatomy.describe_jobs, self._url, self._kind)
                if done is None:
                    return
                with self._cv:
                    for k, described in enumerate(done[1]):
                        self._done[self._taking + k] = described
                    self._cv.notify_all()
        except Exception:  # (this process describes what is left)
            with self._cv:
                if not self._closed:
                    log.exception("describing in the encoder process failed; describing here")
                self._failed = True
                self._cv.notify_all()


class EventWriter:
    """Stores what a run decided, for one store, clusterer and story linker.

    ``kind``: the store's vector kind of the members' sentence vectors; ``share_min``: the
    encoder process shares the describing when there are at least this many touched events.
    """

    def __init__(
        self, store: Store, clusterer: OnlineClusterer, linker: Linker, kind: str, share_min: int = 64
    ) -> None:
        self.store = store
        self.kind = kind  # the store's vector kind of the sentence vectors
        self.clusterer = clusterer
        self.linker = linker
        self.share_min = share_min
        self.memo = anatomy.FamilyMemo()  # large events' families, extended as members join
        # stored since the last linking write, not linked yet: event id -> what the linker is
        # to see of it (None when it is to be read back from the store: after a restart) ...
        self.unlinked: dict[str, StoryEvent | None] = {}
        self.held: list[Merge] = []  # ... and event merges the linker is not told of yet
        # during a write, the events it read or wrote, by id: a story's events are read once
        # per write, not once per event of it that is linked (None outside a write)
        self._events: dict[str, Event] | None = None
        self.save_all = True  # the next save writes all the linker's events (see linkstate)

    def resume(self, state: str | None) -> None:
        """Take up what a writer left unlinked (the store's ``unlinked`` state)."""
        data = json.loads(state) if state else {}
        self.unlinked = dict.fromkeys(data.get("events", []))
        self.held = [Merge(**m) for m in data.get("merges", [])]

    def pending(self) -> bool:
        """Whether events or merges wait for a linking write."""
        return bool(self.unlinked or self.held)

    def write(
        self, fresh: set[str], scores: dict[str, float], merges: list[Merge],
        helper: Spare | None = None, link: bool = True,
    ) -> None:
        """Describe and store the events of ``fresh`` articles and the winners of ``merges``
        (one transaction). ``helper``: the encoder process's ``spare`` (see
        :meth:`~storyline.run.workers.ProcessEncoder.spare`): it describes events from the end
        of the list while this process describes them from the start, whenever it is free.
        ``link``: link them (and those left unlinked before) into stories now; else later."""
        touched = {self.clusterer.event_of_[aid] for aid in fresh}
        touched |= {m.winner for m in merges if m.winner in self.clusterer.members_}
        order = sorted(touched)
        share = self.share(order, helper)
        try:
            self.write_events(order, fresh, scores, merges, share, link)
        finally:
            if share is not None:
                share.close()

    def share(self, order: list[str], helper: Spare | None) -> SharedDescribe | None:
        """A :class:`SharedDescribe` of ``order`` with the encoder process, when there is one
        that can open the store and there are enough events to share."""
        url = self.store.url
        if helper is None or len(order) < self.share_min or not url or self.store.memory:
            return None
        jobs = [(ev, list(self.clusterer.members_[ev]), self.created(ev)) for ev in order]
        return SharedDescribe(jobs, helper, url, self.kind)

    def write_events(
        self, order: list[str], fresh: set[str], scores: dict[str, float], merges: list[Merge],
        share: SharedDescribe | None = None, link: bool = True,
    ) -> None:
        """Store the events of ``order`` (sorted ids) and ``merges``, in one transaction. With
        ``link``, the events and merges left unlinked before are linked with them, all in
        one sorted order: the stories are those of writing them all now."""
        self._events = {}
        try:
            self._write_events(order, fresh, scores, merges, share, link)
        finally:
            self._events = None

    def _write_events(
        self, order: list[str], fresh: set[str], scores: dict[str, float], merges: list[Merge],
        share: SharedDescribe | None, link: bool,
    ) -> None:
        with self.store.transaction():
            for m in merges:
                self.store.record_merge(m)
                self.store.delete_event(m.loser)
                self._events.pop(m.loser, None)  # type: ignore[union-attr]
                self.unlinked.pop(m.loser, None)
            self.held.extend(merges)
            if link:
                self._link_all(order, fresh, scores, share)
            else:
                for n, ev in enumerate(order):
                    described = share.result(n) if share is not None else None
                    self.describe(ev, fresh, scores, described, link=False)
            self.store.set_state("unlinked", self._waiting())
            self.store.put_decisions(self.clusterer.take_decisions(fresh))  # for `storyline why`

    def _waiting(self) -> str:
        """What waits for a linking write, as the store keeps it (empty when nothing waits)."""
        if not self.pending():
            return ""
        merges = [dataclasses.asdict(m) for m in self.held]
        return json.dumps({"events": sorted(self.unlinked), "merges": merges})

    def _link_all(
        self, order: list[str], fresh: set[str], scores: dict[str, float],
        share: SharedDescribe | None,
    ) -> None:
        """Describe and link the events of ``order``, link those left unlinked before, and tell
        the linker of the held merges (first, as if each had been written now)."""
        emptied: list[tuple[str, str]] = []
        for m in self.held:
            sid = self.linker.remove(m.loser)
            if sid is not None and sid not in self.linker.stories_:
                emptied.append((sid, m.winner))
        waiting = {ev: sev for ev, sev in self.unlinked.items() if ev in self.clusterer.members_}
        self.held, self.unlinked = [], {}
        index = {ev: n for n, ev in enumerate(order)}
        for ev in sorted(index.keys() | waiting.keys()):
            if ev in index:
                n = index[ev]
                self.describe(ev, fresh, scores, share.result(n) if share is not None else None)
            else:
                self.settle(ev, waiting[ev])
        for sid, winner in emptied:
            # the story lived only through the merged event: it now resolves to the
            # surviving event's story
            survivor = self.clusterer.event_of_.get(self.clusterer.members_.get(winner, [""])[0], winner)
            target = self.linker.story_of_.get(survivor)
            self.store.delete_story(sid)
            if target and target != sid:
                self.store.record_merge(Merge("story", sid, target, 1.0, utc_now(), "event merged"))
        save_linker(self.store, self.linker, full=self.save_all)
        self.save_all = False

    def created(self, ev: str) -> str:
        """When the event was first stored (now for a new one, or a merged-away id)."""
        old = self.store.get_event(ev)
        return old.created if old is not None and old.id == ev else utc_now()

    def describe(
        self, ev: str, fresh: set[str], scores: dict[str, float],
        described: tuple[Event, dict[str, str]] | None = None, link: bool = True,
    ) -> None:
        """Describe and store one event and its members' assignments; with ``link``, link it
        into its story first, else keep what the linker is to see of it for later."""
        ids = self.clusterer.members_[ev]
        missing = [a for a in ids if a not in fresh]
        items = anatomy.store_items(self.store, ids)
        if described is None:
            described = anatomy.describe_members(self.store, ev, items, self.created(ev), self.kind, self.memo)
        event, fams = described
        if link:
            event.story = self.link_event(ev, event, items)
        else:  # the story it has so far (none for a new event) until the next linking write
            event.story = self.linker.story_of_.get(ev)
            self.unlinked[ev] = anatomy.story_event(event, self.clusterer.centroid(ev), items)
        self.put_event(event)
        # the members assigned earlier keep their score; of those, only the ones whose event,
        # story or family changed are written again (one read for all of them)
        old = self.store.get_assignments(missing) if missing else {}
        new = (
            Assignment(
                p.id, ev, event.story or "", fams.get(p.id, p.id), p.lang,
                scores.get(p.id, old[p.id].score if p.id in old else 1.0),
            )
            for p in items
        )
        self.store.put_assignments(a for a in new if old.get(a.article_id) != a)

    def settle(self, ev: str, sev: StoryEvent | None) -> None:
        """Link an event stored earlier without linking it (``sev``: what the linker is to see
        of it, None to read it back from the store), and write its story on it and on its
        members' assignments."""
        event = self.store.get_event(ev)
        if event is None or event.id != ev:
            return
        story = self.link_event(ev, event) if sev is None else self.link(sev, event)
        if event.story != story:
            event.story = story
            self.put_event(event)
        old = self.store.get_assignments(event.article_ids)
        self.store.put_assignments(
            dataclasses.replace(a, story=story) for a in old.values() if a.story != story
        )

    def link_event(
        self, ev: str, event: Event | None = None, items: Sequence[Processed] | None = None
    ) -> str:
        """Link the event into a story (learning it, or updating it when it changed) and
        store that story; returns the story id."""
        if event is None:
            event = self.store.get_event(ev)
            if event is None:
                return ev
        if items is None:
            items = list(self.store.iter_articles(event.article_ids))
        return self.link(anatomy.story_event(event, self.clusterer.centroid(ev), items), event)

    def link(self, sev: StoryEvent, event: Event) -> str:
        """Link what the linker sees of ``event`` and store its story; returns the story id."""
        ev = sev.id
        if ev in self.linker.story_of_:
            for m in self.linker.update(sev):
                self.store.record_merge(m)
                self.store.delete_story(m.loser)
        else:
            self.linker.learn_one(sev)
        story_id = self.linker.story_of_[ev]
        self.put_story(story_id, event)
        return story_id

    def put_event(self, event: Event) -> None:
        self.store.put_event(event)
        if self._events is not None:
            self._events[event.id] = event

    def stored_event(self, ev: str) -> Event | None:
        """The stored event ``ev`` (None when there is none by that id), read once per write."""
        if self._events is None:
            return self.store.get_event(ev)
        event = self._events.get(ev)
        if event is None:
            event = self.store.get_event(ev)
            if event is not None and event.id == ev:
                self._events[ev] = event
        return event

    def put_story(self, story_id: str, known: Event | None = None) -> None:
        """Store the story from its events (``known``: one of them, not stored yet)."""
        ids = list(self.linker.stories_.get(story_id, []))
        evs = [
            e for e in (known if known is not None and i == known.id else self.stored_event(i) for i in ids)
            if e is not None
        ]
        dates = [e.date for e in evs if e.date]
        main = main_event(evs)  # headline and summary from one event, in one language
        self.store.put_story(
            Story(
                id=story_id,
                event_ids=ids,
                headline=(main.headline or main.title) if main else "",
                summary=main.summary if main else "",
                start=min(dates) if dates else None,
                end=max(dates) if dates else None,
            )
        )
