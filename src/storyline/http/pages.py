"""Server-rendered pages on the same resources as the JSON API (``/events/{id}`` ↔
``/api/events/{id}``). Jinja autoescaping is on for every template: article text is never
trusted as HTML, and only http(s) URLs become links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..errors import NotFound
from ..store.export import article_record, event_record, story_record
from ..version import __version__
from .app import AppState, get_state
from .queries import latest_stories, list_events, search_stories

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE_SIZE = 20

LANG_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "ar": "Arabic", "zh": "Chinese",
    "ja": "Japanese", "tr": "Turkish", "pl": "Polish", "uk": "Ukrainian", "fa": "Persian",
}  # fmt: skip


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) link, else None (no ``javascript:`` or ``data:`` links)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def nice_date(value: str | dt.date | None) -> str:
    if not value:
        return "undated"
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d.day} {d.strftime('%b')} {d.year}"


TEMPLATES.env.filters["safe_url"] = safe_url
TEMPLATES.env.filters["nice_date"] = nice_date
TEMPLATES.env.globals["lang_names"] = LANG_NAMES
TEMPLATES.env.globals["version"] = __version__

router = APIRouter(include_in_schema=False)
State = Annotated[AppState, Depends(get_state)]


def render(
    request: Request, name: str, context: dict[str, Any], status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    resp = TEMPLATES.TemplateResponse(request, name, context, status_code=status, headers=headers)
    resp.headers["Content-Security-Policy"] = CSP
    return resp


def render_error(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None
) -> Response:
    ctx = {"status": status, "code": code, "message": message, "q": ""}
    return render(request, "error.html", ctx, status=status, headers=headers)


def _merged(request: Request, kind: str, asked: str, found: str) -> RedirectResponse | None:
    if asked == found:
        return None
    return RedirectResponse(str(request.url_for(kind, **{f"{kind}_id": found})), status_code=308)


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
    ev = state.store.get_event(event_id)
    if ev is None:
        raise NotFound(f"no event {event_id}")
    redirect = _merged(request, "event", event_id, ev.id)
    if redirect is not None:
        return redirect
    rec = event_record(state.store, ev)
    story = state.store.get_story(ev.story) if ev.story else None
    return render(request, "event.html", {"ev": rec, "story": story, "q": ""})


@router.get("/stories/{story_id}", response_class=HTMLResponse, name="story")
def story_page(story_id: str, request: Request, state: State) -> Response:
    st = state.store.get_story(story_id)
    if st is None:
        raise NotFound(f"no story {story_id}")
    redirect = _merged(request, "story", story_id, st.id)
    if redirect is not None:
        return redirect
    return render(request, "story.html", {"st": story_record(state.store, st), "q": ""})


@router.get("/articles/{article_id:path}", response_class=HTMLResponse, name="article")
def article_page(article_id: str, request: Request, state: State) -> HTMLResponse:
    p = state.store.get_article(article_id)
    if p is None:
        raise NotFound(f"no article {article_id}")
    rec = article_record(p, state.store.get_assignment(article_id))
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


__all__ = ["render_error", "router", "safe_url"]
