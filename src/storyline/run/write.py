"""Writing a run's results: describe the touched events, link them into stories, store.

:class:`EventWriter` turns the clusterer's decisions into stored events (families, date,
headline, summary, entities), assignments and stories, in one transaction. With an encoder
child process and enough events, the child describes half of them meanwhile (it has nothing
left to encode); the results are the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ..cluster.online import OnlineClusterer
from ..describe import anatomy
from ..model import Assignment, Event, Merge, Processed, Story, utc_now
from ..store.base import Store
from ..stories.base import Linker
from ..describe.display import main_event


class EventWriter:
    """Stores what a run decided, for one store, clusterer and story linker.

    ``kind``: the store's vector kind of the members' sentence vectors; ``share_min``: the child describes half of the touched events when there are at least
    this many.
    """

    def __init__(
        self, store: Store, clusterer: OnlineClusterer, linker: Linker, kind: str, share_min: int = 64
    ) -> None:
        self.store = store
        self.kind = kind  # the store's vector kind of the sentence vectors
        self.clusterer = clusterer
        self.linker = linker
        self.share_min = share_min

    def write(
        self, fresh: set[str], scores: dict[str, float], merges: list[Merge],
        helper: Callable[..., object] | None = None,
    ) -> None:
        touched = {self.clusterer.event_of_[aid] for aid in fresh}
        touched |= {m.winner for m in merges if m.winner in self.clusterer.members_}
        order = sorted(touched)
        with ThreadPoolExecutor(1, thread_name_prefix="storyline-describe") as pool:
            theirs = self.describe_elsewhere(order, helper, pool)
            self.write_events(order, fresh, scores, merges, theirs)

    def describe_elsewhere(
        self, order: list[str], helper: Callable[..., object] | None, pool: ThreadPoolExecutor
    ) -> dict[str, Future[list[tuple[Event, dict[str, str]]]]]:
        """The second half of ``order`` described by the encoder process (when there is one
        and it can open the store), in the background: it has nothing left to encode."""
        url = self.store.url
        if helper is None or len(order) < self.share_min or not url or self.store.memory:
            return {}
        jobs = []
        for ev in order[len(order) // 2 :]:
            jobs.append((ev, list(self.clusterer.members_[ev]), self.created(ev)))
        future = pool.submit(helper, anatomy.describe_stored, url, jobs, self.kind)
        return {ev: future for ev, _, _ in jobs}  # type: ignore[misc]

    def write_events(
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
                self.describe(ev, fresh, scores, done.get(ev))
            for sid, winner in emptied:
                # the story lived only through the merged event: it now resolves to the
                # surviving event's story
                survivor = self.clusterer.event_of_.get(self.clusterer.members_.get(winner, [""])[0], winner)
                target = self.linker.story_of_.get(survivor)
                self.store.delete_story(sid)
                if target and target != sid:
                    self.store.record_merge(Merge("story", sid, target, 1.0, utc_now(), "event merged"))
            self.store.set_state("stories", json.dumps(self.linker.to_state()))
            self.store.put_decisions(self.clusterer.take_decisions(fresh))  # for `storyline why`

    def created(self, ev: str) -> str:
        """When the event was first stored (now for a new one, or a merged-away id)."""
        old = self.store.get_event(ev)
        return old.created if old is not None and old.id == ev else utc_now()

    def describe(
        self, ev: str, fresh: set[str], scores: dict[str, float],
        described: tuple[Event, dict[str, str]] | None = None,
    ) -> None:
        ids = self.clusterer.members_[ev]
        missing = [a for a in ids if a not in fresh]
        items = anatomy.store_items(self.store, ids)
        if described is None:
            described = anatomy.describe_members(self.store, ev, items, self.created(ev), self.kind)
        event, fams = described
        event.story = self.link_event(ev, event, items)
        self.store.put_event(event)
        # the members assigned earlier keep their score; of those, only the ones whose event,
        # story or family changed are written again (one read for all of them)
        old = self.store.get_assignments(missing) if missing else {}
        new = (
            Assignment(
                p.id, ev, event.story or ev, fams.get(p.id, p.id), p.lang,
                scores.get(p.id, old[p.id].score if p.id in old else 1.0),
            )
            for p in items
        )
        self.store.put_assignments(a for a in new if old.get(a.article_id) != a)

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
        sev = anatomy.story_event(event, self.clusterer.centroid(ev), items)
        if ev in self.linker.story_of_:
            for m in self.linker.update(sev):
                self.store.record_merge(m)
                self.store.delete_story(m.loser)
        else:
            self.linker.learn_one(sev)
        story_id = self.linker.story_of_[ev]
        self.put_story(story_id, event)
        return story_id

    def put_story(self, story_id: str, known: Event | None = None) -> None:
        """Store the story from its events (``known``: one of them, not stored yet)."""
        ids = list(self.linker.stories_.get(story_id, []))
        evs = [
            e for e in (known if known is not None and i == known.id else self.store.get_event(i) for i in ids)
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
