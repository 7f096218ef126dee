"""Event → story linking, online, with stable story ids.

A *story* is a chain of events that continue one another (the June 2020 US–Iraq strategic
dialogue and the January 2024 talks on ending the coalition mission). Look-alikes are not
stories: two earthquakes in one country, two celebrities in rehab, two countries' troop
withdrawals. So a link needs the same *specific* actors (entity keys weighted by rarity; a shared
country alone is never enough) as well as the same subject (centroid cosine, keyphrases; the
pipeline turns keyphrases that name an entity into ``@``-prefixed entity keys so that they
compare across languages). Time lowers the score only within the first year: stories run for
years. The rule and its numbers (``bench/stories_ecb.py``): ``docs/stories.md``.

>>> import numpy as np
>>> v = np.ones(4, dtype=np.float32) / 2
>>> a = StoryEvent("ev-a", dt.date(2020, 6, 11), v, frozenset({"country:IQ", "org:nato", "per:kazimi"}))
>>> b = StoryEvent("ev-b", dt.date(2024, 1, 27), v, frozenset({"org:nato", "per:kazimi"}))
>>> linker = StoryLinker()
>>> linker.learn_one(a)
('st-a', 0.0)
>>> linker.learn_one(b)[0]
'st-a'
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..model import Merge, utc_now
from ..represent.features import fold

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


@dataclass
class StoryEvent:
    """What the story linker needs of one event (a summary, not the articles)."""

    id: str
    date: dt.date | None
    centroid: np.ndarray  # unit float32 vector
    entities: frozenset[str] = frozenset()  # cross-lingual keys: "per:kazimi", "country:IQ"
    keyphrases: list[str] = field(default_factory=list)
    size: int = 1
    langs: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        vec = np.asarray(self.centroid, dtype="<f4")
        return {
            "id": self.id,
            "date": self.date.isoformat() if self.date else None,
            "centroid": base64.b64encode(vec.tobytes()).decode("ascii"),
            "entities": sorted(self.entities),
            "keyphrases": list(self.keyphrases),
            "size": self.size,
            "langs": sorted(self.langs),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> StoryEvent:
        vec = np.frombuffer(base64.b64decode(d["centroid"]), dtype="<f4").astype(np.float32)
        return cls(
            id=d["id"],
            date=dt.date.fromisoformat(d["date"]) if d.get("date") else None,
            centroid=vec,
            entities=frozenset(d.get("entities", ())),
            keyphrases=list(d.get("keyphrases", ())),
            size=int(d.get("size", 1)),
            langs=frozenset(d.get("langs", ())),
        )


@dataclass(frozen=True)
class LinkWeights:
    """How the parts of a link score are combined (see ``docs/stories.md``)."""

    centroid: float = 0.5  # × cosine of the event centroids
    actors: float = 0.35  # × min(1, actor evidence / actor_saturation)
    keyphrases: float = 0.15  # × IDF-weighted keyphrase overlap coefficient
    per_year: float = 0.015  # subtracted per year between the events ...
    max_years: float = 1.0  # ... up to this many years (beyond, time costs nothing more)
    actor_saturation: float = 2.0
    # Weight of a shared entity key by kind (the prefix before ":"); other keys: "other".
    kinds: tuple[tuple[str, float], ...] = (
        ("per", 1.0),
        ("org", 1.0),
        ("city", 0.5),
        ("loc", 0.5),
        ("country", 0.15),
        ("other", 0.6),
    )

    def kind_weight(self, key: str) -> float:
        kind = key.split(":", 1)[0] if ":" in key else "other"
        table = dict(self.kinds)
        return table.get(kind, table.get("other", 0.6))


class LinkScore(NamedTuple):
    """One event-to-event link, with its parts, for decisions and explanations."""

    score: float
    cosine: float
    actors: float  # rarity-weighted evidence from shared specific keys
    keyphrases: float
    gap_days: int
    shared: tuple[str, ...]


_NO_LINK = LinkScore(0.0, 0.0, 0.0, 0.0, 0, ())


def _is_weak(key: str) -> bool:
    return key.startswith("country:")


class StoryLinker:
    """Online event → story linker (``learn_one``), with ``update``, ``remove`` and ``repair``.

    Parameters are attributes set here and never changed; learned state ends with ``_``:
    ``events_`` (id → StoryEvent), ``stories_`` (story id → event ids in date order),
    ``story_of_`` (event id → story id), ``merges_`` (logged story merges) and ``aliases_``
    (merged-away story id → surviving id, so old ids stay resolvable; see ``resolve``).
    """

    def __init__(
        self,
        threshold: float = 0.65,
        max_gap_days: int = 3650,
        weights: LinkWeights | None = None,
        actor_min: float = 1.2,
        min_cosine: float = 0.35,
        idf_prior: int = 20,
        max_candidates: int = 400,
    ) -> None:
        self.threshold = threshold
        self.max_gap_days = max_gap_days
        self.weights = weights or LinkWeights()
        self.actor_min = actor_min
        self.min_cosine = min_cosine
        self.idf_prior = idf_prior
        self.max_candidates = max_candidates
        self.events_: dict[str, StoryEvent] = {}
        self.stories_: dict[str, list[str]] = {}
        self.story_of_: dict[str, str] = {}
        self.merges_: list[Merge] = []
        self.aliases_: dict[str, str] = {}
        self._born: dict[str, int] = {}  # story id → creation order (older survives a merge)
        self._issued: set[str] = set()  # every story id ever given out: never reused
        self._df: Counter[str] = Counter()  # entity key → events holding it
        self._kdf: Counter[str] = Counter()  # folded keyphrase → events holding it
        self._index: dict[str, set[str]] = defaultdict(set)  # specific key → event ids

    # ----------------------------------------------------------------- scoring
    def _rarity(self, df: int) -> float:
        """IDF over the events seen, scaled to (0, 1]; ``idf_prior`` empty pseudo-events keep
        a small corpus from calling everything common."""
        n = len(self.events_) + self.idf_prior
        return (math.log((n + 1) / (df + 1)) + 1.0) / (math.log(n + 1) + 1.0)

    def link(self, a: StoryEvent, b: StoryEvent) -> LinkScore:
        """The link score between two events; 0 unless both gates (actors, cosine) pass."""
        w = self.weights
        gap = abs((a.date - b.date).days) if a.date and b.date else 0
        if gap > self.max_gap_days:
            return _NO_LINK
        shared = a.entities & b.entities
        if not any(not _is_weak(k) for k in shared):
            return _NO_LINK
        actors = sum(w.kind_weight(k) * self._rarity(self._df[k]) for k in shared)
        cos = float(np.dot(a.centroid, b.centroid))
        if actors < self.actor_min or cos < self.min_cosine:
            return LinkScore(0.0, cos, actors, 0.0, gap, tuple(sorted(shared)))
        kp = self._keyphrase_overlap(a.keyphrases, b.keyphrases)
        score = (
            w.centroid * cos
            + w.actors * min(1.0, actors / w.actor_saturation)
            + w.keyphrases * kp
            - w.per_year * min(gap / 365.25, w.max_years)
        )
        return LinkScore(score, cos, actors, kp, gap, tuple(sorted(shared)))

    def _keyphrase_overlap(self, a: Sequence[str], b: Sequence[str]) -> float:
        fa, fb = {fold(k) for k in a}, {fold(k) for k in b}
        if not fa or not fb:
            return 0.0

        def weight(ks: Iterable[str]) -> float:
            return sum(self._rarity(self._kdf[k]) for k in ks)

        return weight(fa & fb) / min(weight(fa), weight(fb))

    def _candidates(self, ev: StoryEvent) -> list[str]:
        """Events sharing a specific (non-country) key with ``ev``, rarest keys first."""
        keys = sorted((k for k in ev.entities if not _is_weak(k)), key=lambda k: self._df[k])
        seen: dict[str, None] = {}
        for k in keys:
            for other in sorted(self._index.get(k, ())):
                if other != ev.id:
                    seen.setdefault(other)
            if len(seen) >= self.max_candidates:
                break
        return list(seen)

    def best_story(
        self, ev: StoryEvent, exclude: str | None = None
    ) -> tuple[str | None, LinkScore]:
        """The best story for ``ev`` (its best event link), skipping story ``exclude``."""
        best: tuple[str | None, LinkScore] = (None, _NO_LINK)
        for other in self._candidates(ev):
            sid = self.story_of_[other]
            if sid == exclude:
                continue
            ls = self.link(ev, self.events_[other])
            cur = best[1].score
            if ls.score > cur or (ls.score == cur > 0 and best[0] and sid < best[0]):
                best = (sid, ls)
        return best

    # ----------------------------------------------------------------- state changes
    def _count(self, ev: StoryEvent, sign: int) -> None:
        for k in ev.entities:
            self._df[k] += sign
            if not _is_weak(k):
                if sign > 0:
                    self._index[k].add(ev.id)
                else:
                    self._index[k].discard(ev.id)
        for k in {fold(p) for p in ev.keyphrases}:
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
        self._count(ev, +1)
        best, ls = self.best_story(ev)
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
        self._count(ev, +1)
        own = self.story_of_[ev.id]
        self._sort(own)
        sid, ls = self.best_story(ev, exclude=own)
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
                sid, ls = self.best_story(ev, exclude=own)
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

    # ----------------------------------------------------------------- persistence
    def get_params(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in _PARAMS} | {"weights": asdict(self.weights)}

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume, as plain JSON-serialisable data."""
        return {
            "version": _STATE_VERSION,
            "params": self.get_params(),
            "events": [e.to_json() for e in self.events_.values()],
            "stories": {sid: list(ids) for sid, ids in self.stories_.items()},
            "born": dict(self._born),
            "issued": sorted(self._issued),
            "aliases": dict(self.aliases_),
            "merges": [m.__dict__.copy() for m in self.merges_],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StoryLinker:
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown story-linker state version {state.get('version')!r}")
        params = dict(state["params"])
        w = dict(params.pop("weights"))
        w["kinds"] = tuple((str(k), float(v)) for k, v in w["kinds"])
        self = cls(weights=LinkWeights(**w), **params)
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



def timeline(story_events: Sequence[StoryEvent]) -> list[StoryEvent]:
    """Events in date order; undated events last; ties by id.

    >>> v = np.zeros(2, dtype=np.float32)
    >>> evs = [StoryEvent("c", None, v), StoryEvent("b", dt.date(2024, 1, 27), v),
    ...        StoryEvent("a", dt.date(2020, 6, 11), v)]
    >>> [e.id for e in timeline(evs)]
    ['a', 'b', 'c']
    """
    return sorted(story_events, key=lambda e: (e.date is None, e.date or dt.date.min, e.id))


def story_headline(
    event_headlines_by_size: Iterable[tuple[str, int] | tuple[str, int, dt.date | None]],
) -> str:
    """The headline of the largest event, the most recent on a tie; "" when there is none.

    Items are ``(headline, size)`` or ``(headline, size, date)``; empty headlines are skipped.

    >>> story_headline([("Talks in 2020", 4, dt.date(2020, 6, 11)),
    ...                 ("Talks in 2024", 4, dt.date(2024, 1, 27)), ("Tiny", 1, None)])
    'Talks in 2024'
    >>> story_headline([])
    ''
    """
    best: tuple[int, dt.date, str] | None = None
    for item in event_headlines_by_size:
        headline, size = item[0], item[1]
        date = item[2] if len(item) > 2 else None  # type: ignore[misc]
        if not headline:
            continue
        key = (size, date or dt.date.min, headline)
        if best is None or key > best:
            best = key
    return best[2] if best else ""
