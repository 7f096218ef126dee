"""Event → story linking, online, with stable story ids.

A *story* is a chain of events that continue one another (the June 2020 US–Iraq strategic
dialogue and the January 2024 talks on ending the coalition mission). Look-alikes are not
stories: two earthquakes in one country, two celebrities in rehab, two countries' troop
withdrawals. So a link needs the same *specific* actors (entity keys weighted by rarity; a shared
country alone is never enough) as well as the same subject (centroid cosine, keyphrases; the
pipeline turns keyphrases that name an entity into ``@``-prefixed entity keys so that they
compare across languages). Time lowers the score only within the first year: stories run for
years. The rule and its numbers (``bench/stories_ecb.py``): ``docs/stories.md``. What the
linker reads and returns (:class:`StoryEvent`, :class:`LinkWeights`, :class:`LinkScore`) is in
:mod:`.event`, re-exported here.

>>> import datetime as dt
>>> import numpy as np
>>> v = np.ones(4, dtype=np.float32) / 2
>>> a = StoryEvent("ev-a", dt.date(2020, 6, 11), v, frozenset({"country:IQ", "org:nato", "per:kazimi"}))
>>> b = StoryEvent("ev-b", dt.date(2024, 1, 27), v, frozenset({"org:nato", "per:kazimi"}))
>>> linker = StoryLinker(weights=LinkWeights())  # the hand-set rule (default: fitted weights)
>>> linker.learn_one(a)
('st-a', 0.0)
>>> linker.learn_one(b)[0]
'st-a'
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from ..cluster.keyindex import KeyIndex
from ..model import Merge, utc_now
from .event import LinkScore, LinkWeights, StoryEvent, shipped_link_params, story_headline, timeline
from .scoring import HAND_ACTOR_MIN, HAND_MIN_COSINE, HAND_THRESHOLD, NO_LINK, LinkScoring, is_weak

__all__ = [
    "LinkScore",
    "LinkWeights",
    "StoryEvent",
    "StoryLinker",
    "story_headline",
    "timeline",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_STATE_VERSION = 1
_PARAMS = ("threshold", "max_gap_days", "actor_min", "min_cosine", "idf_prior", "max_candidates")


class StoryLinker(LinkScoring):
    """Online event → story linker (``learn_one``), with ``update``, ``remove`` and ``repair``.

    Parameters are attributes set here and never changed; learned state ends with ``_``:
    ``events_`` (id → StoryEvent), ``stories_`` (story id → event ids in date order),
    ``story_of_`` (event id → story id), ``merges_`` (logged story merges) and ``aliases_``
    (merged-away story id → surviving id, so old ids stay resolvable; see ``resolve``).
    ``clone()`` is a new, unfitted linker with the same parameters; ``load_state`` resumes
    from ``to_state()`` output and keeps the parameters of the linker it is called on.
    """

    def __init__(
        self,
        threshold: float | None = None,
        max_gap_days: int = 3650,
        weights: LinkWeights | None = None,
        actor_min: float | None = None,
        min_cosine: float | None = None,
        idf_prior: int = 1000,
        max_candidates: int = 400,
    ) -> None:
        # defaults: the weights fitted by scripts/train_linker.py and shipped in the package
        # (data/linker.json); a linker given its own weights keeps the hand-set gates
        shipped = shipped_link_params() if weights is None else {}
        self.weights = weights or shipped.get("weights") or LinkWeights()
        self.threshold = float(threshold if threshold is not None else shipped.get("threshold", HAND_THRESHOLD))
        self.max_gap_days = max_gap_days
        self.actor_min = float(actor_min if actor_min is not None else shipped.get("actor_min", HAND_ACTOR_MIN))
        self.min_cosine = float(min_cosine if min_cosine is not None else shipped.get("min_cosine", HAND_MIN_COSINE))
        self.idf_prior = idf_prior
        self.max_candidates = max_candidates
        self._forget()

    def _forget(self) -> None:
        """Drop all learned state: no events, no stories, no story id given out yet."""
        self.events_: dict[str, StoryEvent] = {}
        self.stories_: dict[str, list[str]] = {}
        self.story_of_: dict[str, str] = {}
        self.merges_: list[Merge] = []
        self.aliases_: dict[str, str] = {}
        self._born: dict[str, int] = {}  # story id → creation order (older survives a merge)
        self._issued: set[str] = set()  # every story id ever given out: never reused
        # bumped whenever the counts below change (never reset: memos compare it)
        self._counts_changed = getattr(self, "_counts_changed", 0) + 1
        self._df: Counter[str] = Counter()  # entity key → events holding it
        self._kdf: Counter[str] = Counter()  # folded keyphrase → events holding it
        self._index = KeyIndex()  # specific key → event ids
        self._touched: set[str] = set()  # events added, changed or removed since take_touched()

    def _candidates(self, ev: StoryEvent) -> list[str]:
        """Events sharing a specific (non-country) key with ``ev``, rarest keys first."""
        keys = sorted((k for k in ev.entities if not is_weak(k)), key=lambda k: (self._df[k], k))
        seen: dict[str, None] = {}
        for k in keys:
            for other in sorted(self._index.get(k)):
                if other != ev.id:
                    seen.setdefault(other)
            if len(seen) >= self.max_candidates:
                break
        return list(seen)

    def best_story(
        self, ev: StoryEvent, exclude: str | None = None, at_least: float = 0.0
    ) -> tuple[str | None, LinkScore]:
        """The best story for ``ev`` (its best event link), skipping story ``exclude``.

        ``at_least``: links that surely score below it (or below the best one so far) are
        not scored in full; the result is the same whenever its score reaches ``at_least``
        (a best link below it may come back as ``(None, NO_LINK)``)."""
        best: tuple[str | None, LinkScore] = (None, NO_LINK)
        for other in self._candidates(ev):
            sid = self.story_of_[other]
            if sid == exclude:
                continue
            cur = best[1].score
            ls = self._link(ev, self.events_[other], max(at_least, cur))
            if ls is None:
                continue
            if ls.score > cur or (ls.score == cur > 0 and best[0] and sid < best[0]):
                best = (sid, ls)
        return best

    # ----------------------------------------------------------------- state changes
    def _count(self, ev: StoryEvent, sign: int) -> None:
        self._counts_changed += 1
        for k in ev.entities:
            self._df[k] += sign
            if not is_weak(k):
                if sign > 0:
                    self._index.add(k, ev.id)
                else:
                    self._index.discard(k, ev.id)
        for k in ev.folded_keyphrases:
            self._kdf[k] += sign

    def _new_story_id(self, event_id: str) -> str:
        suffix = event_id.removeprefix("ev-")
        sid = f"st-{suffix}"
        n = 1
        while sid in self._issued:
            n += 1
            sid = f"st-{suffix}-{n}"
        self._issued.add(sid)
        self._born[sid] = len(self._issued)
        return sid

    def _place(self, ev_id: str, sid: str) -> None:
        self.stories_.setdefault(sid, []).append(ev_id)
        self.story_of_[ev_id] = sid
        self._sort(sid)

    def _sort(self, sid: str) -> None:
        members = self.stories_[sid]
        members[:] = [e.id for e in timeline([self.events_[m] for m in members])]

    def _merge(self, a: str, b: str, score: float, reason: str) -> Merge:
        winner, loser = (a, b) if self._born[a] <= self._born[b] else (b, a)
        for ev_id in self.stories_.pop(loser):
            self._place(ev_id, winner)
        self.aliases_[loser] = winner
        for old, new in self.aliases_.items():
            if new == loser:
                self.aliases_[old] = winner
        m = Merge("story", loser, winner, round(score, 4), utc_now(), reason)
        self.merges_.append(m)
        log.info("story %s merged into %s (%.3f): %s", loser, winner, score, reason)
        return m

    def learn_one(self, ev: StoryEvent) -> tuple[str, float]:
        """Link one event: join the best story when the link passes, else open a new story.

        Returns ``(story id, score)``: the link score when joining, 0.0 for a new story.
        A known event id is handled as ``update``.
        """
        if ev.id in self.events_:
            self.update(ev)
            own = self.story_of_[ev.id]
            return own, self._story_score(ev, own)
        self.events_[ev.id] = ev
        self._touched.add(ev.id)
        self._count(ev, +1)
        best, ls = self.best_story(ev, at_least=self.threshold)
        if best is not None and ls.score >= self.threshold:
            self._place(ev.id, best)
            return best, ls.score
        new = self._new_story_id(ev.id)
        self._place(ev.id, new)
        return new, 0.0

    def update(self, ev: StoryEvent) -> list[Merge]:
        """An event changed (it grew): re-check its link.

        When it now links to another story: a lone event moves there, and an event that already
        has story-mates brings its whole story along (the two stories merge; the older id
        survives). Returns the merges made (also appended to ``merges_``).
        """
        if ev.id not in self.events_:
            self.learn_one(ev)
            return []
        self._count(self.events_[ev.id], -1)
        self.events_[ev.id] = ev
        self._touched.add(ev.id)
        self._count(ev, +1)
        own = self.story_of_[ev.id]
        self._sort(own)
        sid, ls = self.best_story(ev, exclude=own, at_least=self.threshold)
        if sid is None or ls.score < self.threshold:
            return []
        why = f"event {ev.id} links to {sid} ({', '.join(ls.shared[:5])})"
        return [self._merge(own, sid, ls.score, why)]

    def _story_score(self, ev: StoryEvent, sid: str) -> float:
        """The best link of ``ev`` to the other events of story ``sid`` (0.0 when alone)."""
        return max(
            (self.link(ev, self.events_[o]).score for o in self.stories_[sid] if o != ev.id),
            default=0.0,
        )

    def remove(self, event_id: str) -> str | None:
        """Forget an event (it was merged away upstream). Returns the story it left, if any.

        A story left empty is dropped; its id is never given out again.
        """
        ev = self.events_.pop(event_id, None)
        if ev is None:
            return None
        self._touched.add(event_id)
        self._count(ev, -1)
        sid = self.story_of_.pop(event_id)
        members = self.stories_[sid]
        members.remove(event_id)
        if not members:
            del self.stories_[sid]
        return sid

    def repair(self) -> list[Merge]:
        """Merge stories that an event now links across (IDF and events changed since the
        online decision). Runs until nothing changes; returns the merges of this pass."""
        made: list[Merge] = []
        changed = True
        while changed:
            changed = False
            for ev in timeline(list(self.events_.values())):
                own = self.story_of_[ev.id]
                sid, ls = self.best_story(ev, exclude=own, at_least=self.threshold)
                if sid is not None and ls.score >= self.threshold:
                    why = f"repair: event {ev.id} links to {sid} ({', '.join(ls.shared[:5])})"
                    made.append(self._merge(own, sid, ls.score, why))
                    changed = True
        return made

    def fit(self, events: Iterable[StoryEvent]) -> StoryLinker:
        """Batch: ``learn_one`` over the events in date order (None last), then ``repair``."""
        for ev in timeline(list(events)):
            self.learn_one(ev)
        self.repair()
        return self

    def resolve(self, story_id: str) -> str:
        """The current id of a story, following merges."""
        return self.aliases_.get(story_id, story_id)

    # ----------------------------------------------------------------- parameters and state
    def _kwargs(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in _PARAMS} | {"weights": self.weights}

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters as plain data (``weights`` as a dict)."""
        return self._kwargs() | {"weights": asdict(self.weights)}

    def clone(self) -> StoryLinker:
        """A new, unfitted linker with the same parameters (as scikit-learn's ``clone``)."""
        return type(self)(**self._kwargs())

    def take_touched(self) -> set[str]:
        """The ids of the events added, changed or removed since the last call (or since
        ``load_state``), so that a caller can save ``to_state(events=False)`` and only the
        events that changed (``events_[id].to_json()``, or gone when not in ``events_``)."""
        touched, self._touched = self._touched, set()
        return touched

    def to_state(self, events: bool = True) -> dict[str, Any]:
        """Everything needed to resume, as plain JSON-serialisable data. ``events=False``:
        without the events (``"events": None``); ``load_state`` then needs them put back."""
        return {
            "version": _STATE_VERSION,
            "params": self.get_params(),
            "events": [e.to_json() for e in self.events_.values()] if events else None,
            "stories": {sid: list(ids) for sid, ids in self.stories_.items()},
            "born": dict(self._born),
            "issued": sorted(self._issued),
            "aliases": dict(self.aliases_),
            "merges": [m.__dict__.copy() for m in self.merges_],
        }

    def load_state(self, state: Mapping[str, Any]) -> StoryLinker:
        """Resume from ``to_state()`` output: its learned state replaces this linker's, the
        parameters stay this linker's own (logged at INFO when the state was saved with other
        parameters). Returns ``self``."""
        _check_version(state)
        saved, own = _kwargs_of(state["params"]), self._kwargs()
        changed = sorted(k for k in saved.keys() | own.keys() if saved.get(k) != own.get(k))
        if changed:
            log.info(
                "story-linker state saved with other parameters; keeping this linker's: %s",
                ", ".join(f"{k} {saved.get(k)!r} -> {own.get(k)!r}" for k in changed),
            )
        self._forget()
        for d in state["events"]:
            ev = StoryEvent.from_json(d)
            self.events_[ev.id] = ev
            self._count(ev, +1)
        for sid, ids in state["stories"].items():
            self.stories_[sid] = list(ids)
            for e in ids:
                self.story_of_[e] = sid
        self._born = {k: int(v) for k, v in state["born"].items()}
        self._issued = set(state["issued"])
        self.aliases_ = dict(state["aliases"])
        self.merges_ = [Merge(**m) for m in state["merges"]]
        return self

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StoryLinker:
        """A linker with the parameters saved in ``state`` and its learned state (to keep the
        caller's parameters instead: ``StoryLinker(...).load_state(state)``)."""
        _check_version(state)
        return cls(**_kwargs_of(state["params"])).load_state(state)


def _check_version(state: Mapping[str, Any]) -> None:
    if state.get("version") != _STATE_VERSION:
        raise ValueError(f"unknown story-linker state version {state.get('version')!r}")


def _kwargs_of(params: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments from ``get_params()`` output (read back from JSON)."""
    kwargs = dict(params)
    w = dict(kwargs.pop("weights"))
    w["kinds"] = tuple((str(k), float(v)) for k, v in w["kinds"])
    w["terms"] = tuple((str(k), float(v)) for k, v in w.get("terms", ()))
    return kwargs | {"weights": LinkWeights(**w)}
