"""Server-rendered pages on the same resources as the JSON API (``/events/{id}`` ↔
``/api/events/{id}``): the latest stories, an event, a story, an article, search. Templates and
their filters are in :mod:`.render`; charts are server-side SVG (:mod:`.charts`).

Every list page takes the same filters as ``GET /api/events`` (``from``, ``to``, ``lang``,
``source``) in its URL, so a filtered view is a link that can be bookmarked and shared;
``lang`` also describes what is shown in that language (:mod:`storyline.describe.display`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..describe.display import describe_story
from ..describe.listing import EventFilter, event_brief, list_events, list_stories
from ..store.base import Store
from ..store.export import event_record, story_record
from .charts import coverage_svg, timeline_svg
from .queries import coverage_rows, lookup_article, lookup_event, lookup_story
from .render import LANG_NAMES, render
from .state import State

PAGE_SIZE = 20
ARTICLES_PER_PAGE = 50
TIMELINE_EVENTS = 80

router = APIRouter(include_in_schema=False)

From = Annotated[dt.date | None, Query(alias="from")]
To = Annotated[dt.date | None, Query(alias="to")]
Lang = Annotated[str | None, Query(max_length=16)]
Source = Annotated[str | None, Query(max_length=200)]
Page = Annotated[int, Query(ge=1, le=10_000)]


def _merged(request: Request, kind: str, asked: str, found: str) -> RedirectResponse | None:
    if asked == found:
        return None
    # a relative location (the path only): the Host header is never reflected into it
    location = request.url_for(kind, **{f"{kind}_id": found}).path
    if request.url.query:
        location += "?" + request.url.query
    return RedirectResponse(location, status_code=308)


def _choices(store: Store) -> dict[str, list[tuple[str, int]]]:
    """The languages and sources a filter form offers, most articles first."""
    langs: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for e in store.iter_events():
        langs.update(e.languages)
        sources.update(e.sources)
    return {"langs": langs.most_common(), "sources": sources.most_common(200)}


def _filters(start: dt.date | None, end: dt.date | None, lang: str | None,
             source: str | None, q: str | None = None) -> EventFilter:  # fmt: skip
    return EventFilter(start=start, end=end, lang=lang, source=source, q=q)


def _link(path: str, params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", 1) or k == "q" and v}
    return path + ("?" + urlencode(kept) if kept else "")


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, state: State, start: From = None, end: To = None, lang: Lang = None,
    source: Source = None, page: Page = 1,
) -> HTMLResponse:  # fmt: skip
    store = state.store
    flt = _filters(start, end, lang, source)
    total, stories = list_stories(store, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    cards = []
    for st, kept in stories:
        told = describe_story(store, st, flt.lang, kept).item
        kept = sorted(kept, key=lambda e: (e.date is None, e.date or dt.date.min, e.id))
        cards.append({
            "id": st.id, "headline": told.headline, "start": st.start, "end": st.end,
            "events": [event_brief(store, e, flt.lang) for e in kept], "all": len(st.event_ids),
        })  # fmt: skip
    _, recent = list_events(store, flt, limit=TIMELINE_EVENTS)
    chart = timeline_svg([event_brief(None, e) for e in recent], "Recent events")
    params = flt.params()
    return render(
        request,
        "home.html",
        {
            "stories": cards, "chart": chart, "flt": flt, "params": params,
            "choices": _choices(store), "filtered": bool(params),
            "counts": {"articles": store.count_articles(), "stories": total},
            "page": page, "more": page * PAGE_SIZE < total, "q": "",
            "newer": _link("/", {**params, "page": page - 1}),
            "older": _link("/", {**params, "page": page + 1}),
        },
    )  # fmt: skip


@router.get("/events/{event_id}", response_class=HTMLResponse, name="event")
def event_page(
    event_id: str, request: Request, state: State, lang: Lang = None,
    by: Annotated[str, Query(pattern="^(lang|source)$")] = "lang", page: Page = 1,
) -> Response:  # fmt: skip
    ev = lookup_event(state.store, event_id)
    redirect = _merged(request, "event", event_id, ev.id)
    if redirect is not None:
        return redirect
    rec = event_record(state.store, ev, lang)
    articles = [a for fam in rec["families"] for a in fam["articles"]]
    chart = coverage_svg(articles, by, LANG_NAMES if by == "lang" else None,
                         f"Coverage of this event by {'language' if by == 'lang' else 'source'}")  # fmt: skip
    # a page of families, about ARTICLES_PER_PAGE articles each (a family is never split)
    pages: list[list[dict[str, Any]]] = [[]]
    for fam in rec["families"]:
        if pages[-1] and sum(len(f["articles"]) for f in pages[-1]) + len(fam["articles"]) > ARTICLES_PER_PAGE:
            pages.append([])
        pages[-1].append(fam)
    page = min(page, len(pages))
    story = state.store.get_story(ev.story) if ev.story else None
    told_story = describe_story(state.store, story, lang).item if story else None
    here = {"lang": lang or "", "by": by if by != "lang" else ""}
    return render(
        request,
        "event.html",
        {
            "ev": rec, "story": told_story, "q": "", "chart": chart, "by": by,
            "lang": (lang or "").lower(), "families": pages[page - 1], "page": page,
            "pages": len(pages), "newer": _link(f"/events/{ev.id}", {**here, "page": page - 1}),
            "older": _link(f"/events/{ev.id}", {**here, "page": page + 1}),
            "chart_by": {k: _link(f"/events/{ev.id}", {"lang": lang or "", "by": k})
                         for k in ("lang", "source")},
        },
    )  # fmt: skip


@router.get("/stories/{story_id}", response_class=HTMLResponse, name="story")
def story_page(story_id: str, request: Request, state: State, lang: Lang = None) -> Response:
    st = lookup_story(state.store, story_id)
    redirect = _merged(request, "story", story_id, st.id)
    if redirect is not None:
        return redirect
    rec = story_record(state.store, st, lang)
    ids = [a for e in (state.store.get_event(i) for i in st.event_ids) if e for a in e.article_ids]
    chart = coverage_svg(coverage_rows(state.store, ids), "lang", LANG_NAMES,
                         "Coverage of this story by language")  # fmt: skip
    langs: Counter[str] = Counter()
    for e in rec["events"]:
        langs.update(e["languages"])
    return render(request, "story.html", {"st": rec, "q": "", "chart": chart,
                                          "langs": langs.most_common(), "lang": lang or ""})  # fmt: skip


@router.get("/articles/{article_id:path}", response_class=HTMLResponse, name="article")
def article_page(article_id: str, request: Request, state: State) -> HTMLResponse:
    rec = lookup_article(state.store, article_id)
    return render(request, "article.html", {"a": rec, "q": ""})


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, state: State, q: Annotated[str, Query(max_length=200)] = "",
    start: From = None, end: To = None, lang: Lang = None, source: Source = None,
    page: Page = 1,
) -> HTMLResponse:  # fmt: skip
    from ..describe.search import search, search_stories

    store = state.store
    flt = _filters(start, end, lang, source, q)
    events: list[dict[str, Any]] = []
    stories: list[Any] = []
    total = 0
    if flt.q:
        pool = [e for e in store.iter_events() if flt.keeps(e)]
        hits = search(store, flt.q, events=pool, limit=len(pool) or 1)
        total = len(hits)
        shown = hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        events = [{**event_brief(store, h.event, flt.lang), "why": h.why} for h in shown]
        stories = search_stories(store, flt.q, hits)[:20]
    elif flt.params():
        total, found = list_events(store, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        events = [event_brief(store, e, flt.lang) for e in found]
    params = flt.params()
    return render(
        request,
        "search.html",
        {
            "q": q, "lang": flt.lang or "", "flt": flt, "params": params, "events": events,
            "stories": stories, "total": total, "searched": bool(params),
            "choices": _choices(store), "page": page, "more": page * PAGE_SIZE < total,
            "newer": _link("/search", {**params, "page": page - 1}),
            "older": _link("/search", {**params, "page": page + 1}),
        },
    )  # fmt: skip
