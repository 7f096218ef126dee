"""Events and stories described in a chosen display language, for the CLI, the API and pages.

A stored event is described in the language most of its members share. Asked for another
language, its headline, summary, keyphrases and entity names are drawn again from the members
in that language when there are any, from the best-covered language otherwise; either way
:attr:`Described.lang` says which language the text is in and :attr:`Described.fallback`
whether it differs from the one asked for, so a reader can be told.

A story's headline and summary come from one of its events (the largest, the most recent on a
tie; among the events with members in the asked language when any), so they are in one
language and describe one happening, never a headline of one event above the summary of
another.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Event, Story
from ..store.base import Store

__all__ = [
    "Described",
    "describe_event",
    "describe_story",
    "in_language",
    "main_event",
    "stored_lang",
]


@dataclass
class Described:
    """An event (or story) with its description in ``lang``; ``asked`` is the language that
    was asked for (None: the default) and ``fallback`` tells that ``lang`` is not it."""

    item: Event | Story
    lang: str | None
    asked: str | None = None

    @property
    def fallback(self) -> bool:
        return bool(self.asked) and self.asked != self.lang


def stored_lang(event: Event) -> str | None:
    """The language a stored event's description is in: the one most of its members share
    (``languages`` is ordered by count, first arrival first on a tie, as when described)."""
    return next(iter(event.languages), None)


def _normal(lang: str | None) -> str | None:
    lang = (lang or "").strip().lower()
    return lang or None


def describe_event(store: Store, event: Event, lang: str | None = None) -> Described:
    """``event`` described in ``lang`` (see the module docstring); the stored description
    when ``lang`` is None or already the stored one."""
    from ..represent.builder import sentence_kind
    from .anatomy import describe

    lang = _normal(lang)
    shown = stored_lang(event)
    if lang is None or lang == shown or lang not in event.languages:
        return Described(event, shown, lang)
    items = list(store.iter_articles(event.article_ids))
    if not items:
        return Described(event, shown, lang)
    vectors = store.get_vectors([p.article.hash for p in items], sentence_kind(store))
    redone = describe(event.id, items, vectors, event.created, lang=lang)
    ev = dataclasses.replace(
        event, headline=redone.headline, summary=redone.summary,
        keyphrases=redone.keyphrases, entities=redone.entities,
    )  # fmt: skip
    return Described(ev, lang, lang)


def in_language(store: Store, event: Event, lang: str) -> Event:
    """``event`` described in ``lang`` (:func:`describe_event`, the event only)."""
    return describe_event(store, event, lang).item  # type: ignore[return-value]


def main_event(events: Sequence[Event], lang: str | None = None) -> Event | None:
    """The event that speaks for a story: the largest, the most recent on a tie; among the
    events with members in ``lang`` when there are any."""
    lang = _normal(lang)
    pool = [e for e in events if lang and lang in e.languages] or list(events)
    if not pool:
        return None
    return max(pool, key=lambda e: (e.size, e.date or dt.date.min, e.id))


def describe_story(
    store: Store, story: Story, lang: str | None = None, events: Sequence[Event] | None = None
) -> Described:
    """``story`` with headline and summary both from its main event (:func:`main_event`),
    described in ``lang`` (:func:`describe_event`)."""
    if events is None:
        events = [e for e in (store.get_event(i) for i in story.event_ids) if e is not None]
    main = main_event(events, lang)
    if main is None:
        return Described(story, None, _normal(lang))
    d = describe_event(store, main, lang)
    ev = d.item
    assert isinstance(ev, Event)
    st = dataclasses.replace(story, headline=ev.headline or ev.title, summary=ev.summary)
    return Described(st, d.lang, d.asked)
