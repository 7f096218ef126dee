"""Atom feeds under ``/feeds/``, so any feed reader follows storyline.

- ``/feeds/events.atom``: the newest events;
- ``/feeds/events/{id}.atom``: the articles of one event (a merged id follows the merge);
- ``/feeds/stories/{id}.atom``: the events of one story;
- ``/feeds/follows/{id}.atom``: the events a saved search (:mod:`storyline.follow`) matches.

Links are relative to the server (the ``Host`` header is never reflected into a feed); ids
are ``tag:`` URIs, stable across restarts. Built with ElementTree, so text is escaped.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from .. import follow as following
from ..errors import NotFound
from ..model import Event
from ..version import __version__
from .state import State

router = APIRouter(prefix="/feeds", tags=["feeds"])

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:storyline.invalid,2024:"
EPOCH = "1970-01-01T00:00:00+00:00"


def _when(value: str | dt.date | None) -> str:
    """An RFC 3339 timestamp from a stored ISO time or a date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value.isoformat()}T00:00:00+00:00"
    if not value:
        return EPOCH
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return EPOCH
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _feed(fid: str, title: str, href: str, entries: list[tuple[str, str, str, str, str]]) -> Response:
    """An Atom document; entries are (id, title, link, updated, summary)."""
    root = ET.Element("feed", {"xmlns": ATOM})
    _sub(root, "id", TAG + fid)
    _sub(root, "title", title or fid)
    _sub(root, "updated", max((e[3] for e in entries), default=EPOCH))
    _sub(root, "link", rel="alternate", href=href)
    author = _sub(root, "author")
    _sub(author, "name", "storyline")
    _sub(root, "generator", "storyline", version=__version__)
    for eid, etitle, link, updated, summary in entries:
        entry = _sub(root, "entry")
        _sub(entry, "id", TAG + eid)
        _sub(entry, "title", etitle or eid)
        _sub(entry, "link", rel="alternate", href=link)
        _sub(entry, "updated", updated)
        if summary:
            _sub(entry, "summary", summary)
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body, media_type="application/atom+xml; charset=utf-8")


def _event_entry(e: Event) -> tuple[str, str, str, str, str]:
    langs = ", ".join(f"{k}:{v}" for k, v in e.languages.items())
    when = e.date.isoformat() if e.date else "undated"
    summary = f"{when} · {e.size} article{'s' if e.size != 1 else ''} ({langs}). {e.summary}".strip()
    return (f"event:{e.id}", e.headline or e.title, f"/events/{quote(e.id, safe='')}", _when(e.created), summary)


@router.get("/events.atom")
def events_feed(state: State, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    """The newest events."""
    evs = sorted(state.store.iter_events(), key=lambda e: (e.created, e.id), reverse=True)[:limit]
    return _feed("events", "storyline: new events", "/", [_event_entry(e) for e in evs])


@router.get("/events/{event_id}.atom")
def event_feed(event_id: str, state: State) -> Response:
    """The articles of one event, newest first."""
    store = state.store
    ev = store.get_event(event_id)
    if ev is None:
        raise NotFound(f"no event {event_id}")
    items = sorted(store.iter_articles(ev.article_ids), key=lambda p: (p.article.published or dt.date.min, p.id), reverse=True)
    entries = [
        (f"article:{p.id}", p.title or (p.sentences[0] if p.sentences else p.id)[:200],
         f"/articles/{quote(p.id, safe='')}", _when(p.article.published or ev.created),
         " ".join(p.sentences[:2])[:500])
        for p in items
    ]  # fmt: skip
    return _feed(f"event:{ev.id}", ev.headline or ev.title, f"/events/{quote(ev.id, safe='')}", entries)


@router.get("/stories/{story_id}.atom")
def story_feed(story_id: str, state: State) -> Response:
    """The events of one story, newest first."""
    store = state.store
    st = store.get_story(story_id)
    if st is None:
        raise NotFound(f"no story {story_id}")
    evs = [e for e in (store.get_event(i) for i in st.event_ids) if e is not None]
    evs.sort(key=lambda e: (e.created, e.id), reverse=True)
    return _feed(f"story:{st.id}", st.headline, f"/stories/{quote(st.id, safe='')}", [_event_entry(e) for e in evs])


@router.get("/follows/{follow_id}.atom")
def follow_feed(follow_id: str, state: State, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    """The events a saved search matches, newest first."""
    f = following.get(state.store, follow_id)
    evs = following.matches(state.store, f, limit)
    return _feed(f"follow:{f.id}", f"storyline: {f.label()}", "/", [_event_entry(e) for e in evs])
