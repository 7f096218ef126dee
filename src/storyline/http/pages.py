"""Server-rendered pages on the same resources as the JSON API (``/events/{id}`` ↔
``/api/events/{id}``): the latest stories, an event, a story, an article, search. Templates and
their filters are in :mod:`.render`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..store.export import event_record, story_record
from .queries import (
    latest_stories,
    list_events,
    lookup_article,
    lookup_event,
    lookup_story,
    search_stories,
)
from .render import render
from .state import State

PAGE_SIZE = 20

router = APIRouter(include_in_schema=False)


def _merged(request: Request, kind: str, asked: str, found: str) -> RedirectResponse | None:
    if asked == found:
        return None
    # a relative location (the path only): the Host header is never reflected into it
    return RedirectResponse(request.url_for(kind, **{f"{kind}_id": found}).path, status_code=308)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, state: State, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> HTMLResponse:
    store = state.store
    total, stories = latest_stories(store, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    counts = {"articles": store.count_articles(), "stories": total}
    return render(
        request,
        "home.html",
        {
            "stories": [story_record(store, s) for s in stories],
            "counts": counts,
            "page": page,
            "more": page * PAGE_SIZE < total,
            "q": "",
        },
    )


@router.get("/events/{event_id}", response_class=HTMLResponse, name="event")
def event_page(event_id: str, request: Request, state: State) -> Response:
    ev = lookup_event(state.store, event_id)
    redirect = _merged(request, "event", event_id, ev.id)
    if redirect is not None:
        return redirect
    rec = event_record(state.store, ev)
    story = state.store.get_story(ev.story) if ev.story else None
    return render(request, "event.html", {"ev": rec, "story": story, "q": ""})


@router.get("/stories/{story_id}", response_class=HTMLResponse, name="story")
def story_page(story_id: str, request: Request, state: State) -> Response:
    st = lookup_story(state.store, story_id)
    redirect = _merged(request, "story", story_id, st.id)
    if redirect is not None:
        return redirect
    return render(request, "story.html", {"st": story_record(state.store, st), "q": ""})


@router.get("/articles/{article_id:path}", response_class=HTMLResponse, name="article")
def article_page(article_id: str, request: Request, state: State) -> HTMLResponse:
    rec = lookup_article(state.store, article_id)
    return render(request, "article.html", {"a": rec, "q": ""})


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    state: State,
    q: Annotated[str, Query(max_length=200)] = "",
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    events: list[Any] = []
    stories: list[Any] = []
    if q.strip():
        _, events = list_events(state.store, q=q, lang=lang or None, limit=100)
        stories = search_stories(state.store, q)[:20]
    elif lang:
        _, events = list_events(state.store, lang=lang, limit=100)
    return render(
        request,
        "search.html",
        {"q": q, "lang": lang or "", "events": events, "stories": stories,
         "searched": bool(q.strip() or lang)},
    )  # fmt: skip
