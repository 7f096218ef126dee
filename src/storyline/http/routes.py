"""JSON routes under ``/api``: health, article ingestion (the one write route), events,
stories, articles and search. Every error answers with the envelope of :mod:`.errors`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict

from ..describe.listing import EventFilter, event_brief, list_events, list_stories, story_brief
from ..ingest.jsonl import article_from_record
from ..store.export import event_record, story_record
from .errors import ApiError
from .queries import lookup_article, lookup_event, lookup_story
from .state import State, Writer


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class ArticleIn(BaseModel):
    """One article, with the fields of the JSONL input (``body`` / ``content`` = ``text``)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "id": "afp-2020-06-11-iraq",
                "title": "US to reduce troops in Iraq",
                "text": "The United States announced on Thursday ...",
                "lang": "en",
                "published": "2020-06-11",
                "source": "AFP",
                "url": "https://example.org/iraq",
            }
        },
    )

    id: str | int | None = None
    text: str | None = None
    body: str | None = None
    content: str | None = None
    title: str | None = None
    lang: str | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorEnvelope, "description": "Not found"},
    422: {"model": ErrorEnvelope, "description": "Invalid parameters"},
}

router = APIRouter(prefix="/api", responses=ERRORS)


def _redirect_if_merged(request: Request, asked: str, found: str) -> RedirectResponse | None:
    if asked == found:
        return None
    # a relative location: the Host header is never reflected into it
    from urllib.parse import quote

    url = request.url.path.rsplit("/", 1)[0] + "/" + quote(found, safe="")
    if request.url.query:
        url += "?" + request.url.query
    return RedirectResponse(url, status_code=308)


@router.get("/health", tags=["meta"])
def health(state: State) -> dict[str, Any]:
    """Liveness and a few counts; says how writes are authorized."""
    return {
        "status": "ok",
        "articles": state.store.count_articles(),
        "writes": state.write_mode,
    }


@router.post(
    "/articles",
    tags=["articles"],
    responses={
        401: {"model": ErrorEnvelope, "description": "Missing bearer token"},
        403: {"model": ErrorEnvelope, "description": "Wrong token or writes disabled"},
        413: {"model": ErrorEnvelope, "description": "Body over 5 MB or batch over 500"},
    },
)
def post_articles(payload: ArticleIn | list[ArticleIn], state: Writer) -> dict[str, Any]:
    """Ingest one article or a list; answers each assignment and the skips with reasons.

    Articles already stored (same id) are not processed again; they answer their current
    assignment. Needs ``Authorization: Bearer <token>``.
    """
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > state.max_batch:
        raise ApiError(
            413,
            "payload_too_large",
            f"{len(items)} articles in one request; at most {state.max_batch}",
        )
    parsed = [
        article_from_record(item.model_dump(exclude_none=True), f"request:{n}")
        for n, item in enumerate(items)
    ]
    with state.lock:
        report = state.pipeline.run(parsed)
    return {
        "assignments": [a.to_json() for a in report.assignments],
        "skipped": [{"origin": s.origin, "reason": s.reason} for s in report.skipped],
        "new": report.new,
        "known": report.known,
        "merges": [{"loser": m.loser, "winner": m.winner} for m in report.merges],
        "summary": report.summary(),
    }


@router.get("/skipped", tags=["articles"])
def get_skipped(state: State) -> dict[str, Any]:
    """The quarantined articles: they failed in a run and are kept with their error; no run
    retries them by itself (``POST /api/skipped/retry`` does)."""
    items = []
    for q in state.store.quarantined():
        d = q.to_json()
        d.pop("text", None)
        items.append(d)
    return {"skipped": items, "total": len(items)}


@router.post("/skipped/retry", tags=["articles"])
def retry_skipped(state: Writer) -> dict[str, Any]:
    """Run every quarantined article again; one that fails again goes back to quarantine."""
    with state.lock:
        report = state.pipeline.retry_quarantined()
    return {
        "assignments": [a.to_json() for a in report.assignments],
        "skipped": [{"origin": s.origin, "reason": s.reason} for s in report.skipped],
        "summary": report.summary(),
    }


From = Annotated[dt.date | None, Query(alias="from", description="Event date ≥ (ISO)")]
To = Annotated[dt.date | None, Query(alias="to", description="Event date ≤ (ISO)")]
Lang = Annotated[
    str | None,
    Query(max_length=16, description="Has articles in this language, described in it"),
]
Source = Annotated[str | None, Query(max_length=200, description="Has articles from")]
Sort = Annotated[str, Query(pattern="^(date|size)$", description="date: newest first")]


def _filter(start: dt.date | None, end: dt.date | None, lang: str | None, source: str | None,
            q: str | None = None) -> EventFilter:  # fmt: skip
    if start and end and start > end:
        raise ApiError(422, "validation_error", f"the date range is empty: {start} > {end}")
    return EventFilter(start=start, end=end, lang=lang, source=source, q=q)


@router.get("/events", tags=["events"])
def get_events(
    state: State,
    start: From = None,
    end: To = None,
    lang: Lang = None,
    source: Source = None,
    q: Annotated[str | None, Query(max_length=200, description="Search (as /api/search)")] = None,
    sort: Sort = "date",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Events, newest first (``sort=size``: largest first), filtered by date range, language,
    source and a search; described in ``lang`` when given."""
    flt = _filter(start, end, lang, source, q)
    total, page = list_events(state.store, flt, sort=sort, limit=limit, offset=offset)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [event_brief(state.store, e, flt.lang) for e in page],
    }


@router.get(
    "/events/{event_id}",
    tags=["events"],
    responses={308: {"description": "A merged id: redirect to the surviving event"}},
)
def get_event(event_id: str, request: Request, state: State, lang: Lang = None) -> Any:
    """One event with its families of articles, described in ``lang`` when a member has it
    (else in its best-covered language: ``display_fallback``). A merged id redirects."""
    ev = lookup_event(state.store, event_id)
    return _redirect_if_merged(request, event_id, ev.id) or event_record(state.store, ev, lang)


@router.get("/stories", tags=["stories"])
def get_stories(
    state: State,
    start: From = None,
    end: To = None,
    lang: Lang = None,
    source: Source = None,
    sort: Sort = "date",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Stories with the latest events first (``sort=size``: most events first), each with
    its timeline; filters keep the stories with an event that passes them."""
    flt = _filter(start, end, lang, source)
    total, page = list_stories(state.store, flt, sort=sort, limit=limit, offset=offset)
    items = []
    for st, kept in page:
        rec = story_record(state.store, st, flt.lang)
        brief = story_brief(state.store, st, kept, flt.lang)
        rec.update(articles=brief["articles"], languages=brief["languages"])
        items.append(rec)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get(
    "/stories/{story_id}",
    tags=["stories"],
    responses={308: {"description": "A merged id: redirect to the surviving story"}},
)
def get_story(story_id: str, request: Request, state: State, lang: Lang = None) -> Any:
    """One story as a timeline of its events (headline and summary from one event)."""
    st = lookup_story(state.store, story_id)
    return _redirect_if_merged(request, story_id, st.id) or story_record(state.store, st, lang)


@router.get("/articles/{article_id:path}", tags=["articles"])
def get_article(article_id: str, state: State) -> dict[str, Any]:
    """One stored article with its assignment (event, story, family, score) and the other
    members of its family (``family_members``: copies and translations)."""
    return lookup_article(state.store, article_id)


@router.get("/search", tags=["events"])
def search(
    state: State,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    start: From = None,
    end: To = None,
    lang: Lang = None,
    source: Source = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Events by words, names and meaning, in any language ("Iraq" finds the events that
    say "Irak"): each with ``why`` (``text``, ``entity``, ``similar``) and ``score``; and
    the stories that hold them or whose headline or summary contain ``q``."""
    from ..describe.search import search as find
    from ..describe.search import search_stories

    flt = _filter(start, end, lang, source, q)
    pool = [e for e in state.store.iter_events() if flt.keeps(e)]
    hits = find(state.store, q, events=pool, limit=limit)
    stories = search_stories(state.store, q, hits)[:limit]
    return {
        "query": q,
        "events": [
            {**event_brief(state.store, h.event, flt.lang), "why": h.why, "score": h.score}
            for h in hits
        ],
        "stories": [
            {"id": s.id, "headline": s.headline, "events": len(s.event_ids)} for s in stories
        ],
    }
