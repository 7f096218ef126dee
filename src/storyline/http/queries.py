"""Read queries shared by the JSON API and the pages: one event, story or article by id (or
:class:`~storyline.errors.NotFound`), filtered event lists, latest stories, search. They use
the store contract (its ``search_events``, a query of its own in SQLite and Postgres)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import NotFound
from ..model import Event, Story
from ..store.base import Store
from ..store.export import article_record


def lookup_event(store: Store, event_id: str) -> Event:
    """The event ``event_id`` (the survivor, for a merged id); NotFound when there is none."""
    ev = store.get_event(event_id)
    if ev is None:
        raise NotFound(f"no event {event_id}")
    return ev


def lookup_story(store: Store, story_id: str) -> Story:
    """The story ``story_id`` (the survivor, for a merged id); NotFound when there is none."""
    st = store.get_story(story_id)
    if st is None:
        raise NotFound(f"no story {story_id}")
    return st


def lookup_article(store: Store, article_id: str) -> dict[str, Any]:
    """The record of one stored article with its assignment; NotFound when there is none."""
    p = store.get_article(article_id)
    if p is None:
        raise NotFound(f"no article {article_id}")
    return article_record(p, store.get_assignment(article_id))


def _newest_first(e: Event) -> tuple[bool, str, str]:
    # events with a date first, newest first; then by creation time, newest first
    return (e.date is None, (e.date or dt.date.min).isoformat(), e.created)


def event_brief(ev: Event) -> dict[str, Any]:
    """A short event record for lists."""
    return {
        "id": ev.id,
        "date": ev.date.isoformat() if ev.date else None,
        "headline": ev.headline or ev.title,
        "size": ev.size,
        "languages": ev.languages,
        "sources": ev.sources,
        "story": ev.story,
    }


def text_search(store: Store, q: str) -> list[Event]:
    """Live events whose title, headline, summary (or keyphrases) contain ``q``."""
    return store.search_events(q, limit=1_000_000)


def list_events(
    store: Store,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lang: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Event]]:
    """Events matching every given filter, newest first: ``(total, page)``.

    ``start`` / ``end`` bound the event date (inclusive; undated events are left out when a
    bound is given), ``lang`` keeps events with at least one article in that language.
    """
    events = text_search(store, q) if q and q.strip() else list(store.iter_events())
    if start is not None:
        events = [e for e in events if e.date is not None and e.date >= start]
    if end is not None:
        events = [e for e in events if e.date is not None and e.date <= end]
    if lang:
        events = [e for e in events if lang.lower() in {k.lower() for k in e.languages}]
    events.sort(key=_newest_first, reverse=True)
    events.sort(key=lambda e: e.date is None)  # stable: undated events last
    return len(events), events[offset : offset + limit]


def latest_stories(store: Store, limit: int = 20, offset: int = 0) -> tuple[int, list[Story]]:
    """Stories with the most recent events first (undated last, larger first among ties)."""
    stories = list(store.iter_stories())
    stories.sort(key=lambda s: ((s.end or dt.date.min).isoformat(), len(s.event_ids)), reverse=True)
    stories.sort(key=lambda s: s.end is None)
    return len(stories), stories[offset : offset + limit]


def search_stories(store: Store, q: str) -> list[Story]:
    """Stories whose headline or summary contain ``q``."""
    needle = q.strip().casefold()
    if not needle:
        return []
    return [s for s in store.iter_stories() if needle in f"{s.headline}\n{s.summary}".casefold()]
