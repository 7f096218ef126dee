"""Read queries shared by the JSON API and the pages: one event, story or article by id (or
:class:`~storyline.errors.NotFound`), an article's family, what the coverage charts count.
Lists, filters and search are the library's (:mod:`storyline.describe.listing`,
:mod:`storyline.describe.search`), shared with the command line."""

from __future__ import annotations

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
    """The record of one stored article with its assignment and its family (the other
    copies and translations of its text, each marked ``copy`` or ``translation``);
    NotFound when there is none."""
    p = store.get_article(article_id)
    if p is None:
        raise NotFound(f"no article {article_id}")
    asg = store.get_assignment(article_id)
    rec = article_record(p, asg)
    rec["headline"] = _headline(p)
    rec["family_members"] = family_members(store, p.id, p.lang, asg)
    return rec


def family_members(store: Store, article_id: str, lang: str, asg: Any) -> list[dict[str, Any]]:
    """The other articles of ``article_id``'s family (same event, same family id)."""
    if asg is None:
        return []
    ev = store.get_event(asg.event)
    if ev is None:
        return []
    out = []
    others = [a for a in ev.article_ids if a != article_id]
    for p in store.iter_articles(others):
        other = store.get_assignment(p.id)
        if other is None or other.family != asg.family:
            continue
        out.append({
            "id": p.id, "lang": p.lang, "title": _headline(p),
            "source": p.article.source,
            "published": p.article.published.isoformat() if p.article.published else None,
            "relation": "translation" if p.lang != lang else "copy",
        })  # fmt: skip
    return out


def _headline(p: Any) -> str:
    """The article's title, or a headline-like span of its first sentence."""
    from ..describe.headline import short_headline

    return p.title or short_headline(p.sentences[0] if p.sentences else "", p.lang)


def coverage_rows(store: Store, article_ids: list[str]) -> list[dict[str, Any]]:
    """What the coverage charts count of each article: date, language, source."""
    return [
        {"published": p.article.published, "event_date": p.event_date, "lang": p.lang,
         "source": p.article.source or "?"}
        for p in store.iter_articles(article_ids)
    ]  # fmt: skip
