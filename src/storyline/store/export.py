"""Plain records of articles, events and stories (for export, ``show --json`` and the API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import Event, Processed, Story
from .base import Store


def article_record(p: Processed, assignment: Any = None) -> dict[str, Any]:
    a = p.article
    rec: dict[str, Any] = {
        "id": a.id,
        "title": p.title,
        "lang": p.lang,
        "lang_confidence": p.lang_confidence,
        "published": a.published.isoformat() if a.published else None,
        "event_date": p.event_date.isoformat() if p.event_date else None,
        "event_date_source": p.event_date_source,
        "source": a.source,
        "url": a.url,
        "text": a.text,
    }
    if assignment is not None:
        rec.update(
            event=assignment.event,
            story=assignment.story,
            family=assignment.family,
            score=round(float(assignment.score), 4),
        )
    return rec


def event_record(store: Store, ev: Event, lang: str | None = None) -> dict[str, Any]:
    """An event with its families of articles, ready for JSON; described in ``lang`` when
    given (``display_lang`` says which language the description is in, ``display_fallback``
    that no member has the language asked for)."""
    from ..describe.display import describe_event
    from ..describe.headline import short_headline

    shown = describe_event(store, ev, lang)
    ev = shown.item  # type: ignore[assignment]
    arts = {p.id: p for p in store.iter_articles(ev.article_ids)}
    fams: dict[str, list[dict[str, Any]]] = {}
    for aid in ev.article_ids:
        p = arts.get(aid)
        if p is None:
            continue
        asg = store.get_assignment(aid)
        fam = asg.family if asg else aid
        rec = article_record(p, asg)
        rec.pop("text")
        rec["title"] = p.title or short_headline(p.sentences[0] if p.sentences else "", p.lang)
        fams.setdefault(fam, []).append(rec)
    return {
        "id": ev.id,
        "story": ev.story,
        "date": ev.date.isoformat() if ev.date else None,
        "date_range": [d.isoformat() for d in ev.date_range] if ev.date_range else None,
        "size": ev.size,
        "languages": ev.languages,
        "sources": ev.sources,
        "title": ev.title,
        "headline": ev.headline,
        "summary": ev.summary,
        "keyphrases": ev.keyphrases,
        "entities": [{"key": k, "name": n, "count": c} for k, n, c in ev.entities],
        "families": [{"id": f, "articles": a} for f, a in fams.items()],
        "created": ev.created,
        "display_lang": shown.lang,
        "display_fallback": shown.fallback,
    }


def story_record(store: Store, st: Story, lang: str | None = None) -> dict[str, Any]:
    """A story as a timeline of its events, ready for JSON. Its headline and summary come
    from one event (:func:`storyline.describe.display.describe_story`), in ``lang`` when
    given, as are the events' headlines."""
    from ..describe.display import describe_event, describe_story

    evs = [e for e in (store.get_event(i) for i in st.event_ids) if e is not None]
    evs.sort(key=lambda e: (e.date is None, e.date, e.id))
    shown = describe_story(store, st, lang, evs)
    told = shown.item
    if lang:
        evs = [describe_event(store, e, lang).item for e in evs]  # type: ignore[misc]
    return {
        "id": st.id,
        "headline": told.headline,
        "summary": told.summary,
        "start": st.start.isoformat() if st.start else None,
        "end": st.end.isoformat() if st.end else None,
        "display_lang": shown.lang,
        "display_fallback": shown.fallback,
        "events": [
            {
                "id": e.id,
                "date": e.date.isoformat() if e.date else None,
                "headline": e.headline or e.title,
                "size": e.size,
                "languages": e.languages,
                "sources": e.sources,
            }
            for e in evs
        ],
    }


def records(store: Store, what: str) -> Iterator[dict[str, Any]]:
    if what == "articles":
        assignments = {a.article_id: a for a in store.iter_assignments()}
        for p in store.iter_articles():
            rec = article_record(p, assignments.get(p.id))
            ev = store.get_event(rec["event"]) if rec.get("event") else None
            if ev is not None:
                rec["event_headline"] = ev.headline
                rec["event_date"] = ev.date.isoformat() if ev.date else rec["event_date"]
            yield rec
    elif what == "events":
        for ev in store.iter_events():
            yield event_record(store, ev)
    else:
        for st in store.iter_stories():
            yield story_record(store, st)
