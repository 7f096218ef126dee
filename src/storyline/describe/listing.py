"""Lists of events and stories as a reader asks for them: filtered by date range, language
and source, sorted newest first (or largest first), a page at a time, described in the
reader's language. ``storyline events`` / ``stories``, ``GET /api/events`` and the pages all
list through here, so the command line and the web agree.

``lang`` is the reader's language: a list keeps the events with articles in it, and
describes them in it (:mod:`.display`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import Event, Story
from ..store.base import Store
from .display import describe_event, describe_story, stored_lang

__all__ = [
    "EventFilter",
    "event_brief",
    "filter_events",
    "list_events",
    "list_stories",
    "sort_events",
    "story_brief",
]

SORTS = ("date", "size")


@dataclass
class EventFilter:
    """What a list keeps: event date within ``start``..``end`` (inclusive; undated events go
    when a bound is given), articles in ``lang``, articles from ``source`` (exact, case-
    insensitive), and (for stories) ``q`` in the text."""

    start: dt.date | None = None
    end: dt.date | None = None
    lang: str | None = None
    source: str | None = None
    q: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lang = (self.lang or "").strip().lower() or None
        self.source = (self.source or "").strip() or None
        self.q = (self.q or "").strip() or None
        if self.start and self.end and self.start > self.end:
            from ..errors import InputError

            raise InputError(f"the date range is empty: {self.start} is after {self.end}")

    def keeps(self, e: Event) -> bool:
        if (self.start or self.end) and e.date is None:
            return False
        if self.start and e.date and e.date < self.start:
            return False
        if self.end and e.date and e.date > self.end:
            return False
        if self.lang and self.lang not in {k.lower() for k in e.languages}:
            return False
        source = self.source.casefold() if self.source else None
        return not source or source in {s.casefold() for s in e.sources}

    def params(self) -> dict[str, str]:
        """The filter as URL query parameters (for links that keep it)."""
        out = {"from": self.start.isoformat() if self.start else "",
               "to": self.end.isoformat() if self.end else "",
               "lang": self.lang or "", "source": self.source or "", "q": self.q or ""}  # fmt: skip
        return {k: v for k, v in out.items() if v}


def filter_events(events: Iterable[Event], flt: EventFilter) -> list[Event]:
    return [e for e in events if flt.keeps(e)]


def sort_events(events: list[Event], sort: str = "date") -> list[Event]:
    """Newest first (undated last, then the most recently created) or largest first."""
    if sort not in SORTS:
        from ..errors import InputError

        raise InputError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    out = sorted(events, key=lambda e: (e.date or dt.date.min, e.created, e.id), reverse=True)
    out.sort(key=lambda e: e.date is None)
    if sort == "size":
        out.sort(key=lambda e: -e.size)
    return out


def list_events(
    store: Store,
    flt: EventFilter | None = None,
    *,
    sort: str = "date",
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Event]]:
    """Events kept by ``flt``, sorted: ``(total, page)``. With ``flt.q``, the events that
    :func:`storyline.describe.search.search` finds (text, entities, neighbours)."""
    flt = flt or EventFilter()
    if flt.q:
        from .search import search

        pool = filter_events(store.iter_events(), flt)
        events = [h.event for h in search(store, flt.q, events=pool, limit=len(pool) or 1)]
    else:
        events = filter_events(store.iter_events(), flt)
    events = sort_events(events, sort)
    return len(events), events[offset : offset + limit]


def event_brief(store: Store | None, ev: Event, lang: str | None = None) -> dict[str, Any]:
    """A short event record for lists, described in ``lang`` when given and a store is."""
    shown, told = stored_lang(ev), ev
    fallback = False
    if lang and store is not None:
        d = describe_event(store, ev, lang)
        told, shown, fallback = d.item, d.lang, d.fallback  # type: ignore[assignment]
    return {
        "id": ev.id,
        "date": ev.date.isoformat() if ev.date else None,
        "headline": told.headline or told.title,
        "summary": told.summary,
        "size": ev.size,
        "languages": ev.languages,
        "sources": ev.sources,
        "story": ev.story,
        "display_lang": shown,
        "display_fallback": fallback,
    }


def list_stories(
    store: Store,
    flt: EventFilter | None = None,
    *,
    sort: str = "date",
    limit: int = 20,
    offset: int = 0,
) -> tuple[int, list[tuple[Story, list[Event]]]]:
    """Stories with at least one event kept by ``flt`` (with those events), sorted by their
    latest kept event (newest first) or by their number of events: ``(total, page)``."""
    flt = flt or EventFilter()
    if sort not in SORTS:
        sort_events([], sort)  # raises the error
    by_id = {e.id: e for e in store.iter_events()}
    out = []
    for st in store.iter_stories():
        evs = [by_id[i] for i in st.event_ids if i in by_id]
        kept = filter_events(evs, flt)
        if not kept:
            continue
        if flt.q and not any(
            flt.q.casefold() in f"{x.headline}\n{x.summary}".casefold() for x in (st, *kept)
        ):
            continue
        out.append((st, kept))
    newest = {st.id: max((e.date or dt.date.min for e in evs), default=dt.date.min)
              for st, evs in out}  # fmt: skip
    out.sort(key=lambda se: (newest[se[0].id], len(se[0].event_ids), se[0].id), reverse=True)
    out.sort(key=lambda se: newest[se[0].id] == dt.date.min)
    if sort == "size":
        out.sort(key=lambda se: -len(se[0].event_ids))
    return len(out), out[offset : offset + limit]


def story_brief(
    store: Store, st: Story, events: list[Event], lang: str | None = None
) -> dict[str, Any]:
    """A short story record for lists: headline and summary from one event, in ``lang``."""
    d = describe_story(store, st, lang, events)
    return {
        "id": st.id,
        "headline": d.item.headline,
        "summary": d.item.summary,
        "start": st.start.isoformat() if st.start else None,
        "end": st.end.isoformat() if st.end else None,
        "events": len(st.event_ids),
        "articles": sum(e.size for e in events),
        "languages": sorted({la for e in events for la in e.languages}),
        "display_lang": d.lang,
        "display_fallback": d.fallback,
    }
