"""Routes that explain and correct decisions (registered before :mod:`.routes`, whose
``/api/articles/{id}`` takes any path).

- ``GET /api/articles/{id}/why`` and ``GET /api/why?a=…&b=…``: the evidence (read-only);
- ``POST /api/articles/{id}/move``, ``POST /api/events/{id}/merge``,
  ``POST /api/events/{id}/split``, ``POST /api/corrections/{id}/undo``: corrections, which
  need the write permission of :mod:`.state` (a bearer token); ``GET /api/corrections``;
- ``GET /articles/{id}/why``: the why page (the article page links to it, the event page
  has the correction buttons: ``templates/_why.html``, ``_correct.html``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..corrections import Corrector
from ..explain import Explainer
from ..model import Correction
from .render import render
from .state import AppState, State, Writer

router = APIRouter(prefix="/api", tags=["corrections"])
pages = APIRouter(include_in_schema=False)  # before the pages' /articles/{id} (any path)

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The correction cannot be made (the message says why)"},
    401: {"description": "Missing bearer token"},
    403: {"description": "Wrong token or writes disabled"},
}


class MoveIn(BaseModel):
    to: str = Field(description="The event id to move the article to, or 'new'", max_length=200)
    author: str = Field("", max_length=200)


class MergeIn(BaseModel):
    other: str = Field(description="The event to merge with", max_length=200)
    author: str = Field("", max_length=200)


class SplitIn(BaseModel):
    articles: list[str] = Field(description="The articles that leave the event", min_length=1, max_length=10_000)
    author: str = Field("", max_length=200)


class UndoIn(BaseModel):
    author: str = Field("", max_length=200)


def explainer(state: AppState) -> Explainer:
    """A read-only explainer over the app's store, built again when the store changed (its
    term statistics follow the stored articles)."""
    generation = state.store.get_state("generation")
    cached = getattr(state, "_explainer", None)
    if cached is None or cached[0] != generation:
        cached = (generation, Explainer.for_store(state.store))
        state._explainer = cached  # type: ignore[attr-defined]
    return cached[1]  # type: ignore[no-any-return]


@router.get("/articles/{article_id:path}/why")
def why(article_id: str, state: State) -> dict[str, Any]:
    """Why the article is in its event: candidates with their scores, the evidence for the
    best ones, the probability against the threshold, the corrections that pin it."""
    return explainer(state).article(article_id)


@router.get("/why")
def why_pair(
    state: State,
    a: Annotated[str, Query(min_length=1, max_length=300)],
    b: Annotated[str, Query(min_length=1, max_length=300)],
) -> dict[str, Any]:
    """The evidence that two stored articles report one event."""
    return explainer(state).pair(a, b)


def _apply(state: AppState, do: Any) -> dict[str, Any]:
    with state.lock:
        c: Correction = do(Corrector(state.pipeline))
    return c.to_json()


@router.post("/articles/{article_id:path}/move", responses=WRITE_ERRORS)
def move(article_id: str, body: MoveIn, state: Writer) -> dict[str, Any]:
    """Move the article to another event (or a new one); later runs keep it there."""
    to = None if body.to == "new" else body.to
    return _apply(state, lambda c: c.move(article_id, to, body.author or "api"))


@router.post("/events/{event_id}/merge", responses=WRITE_ERRORS)
def merge(event_id: str, body: MergeIn, state: Writer) -> dict[str, Any]:
    """Merge two events (the older id survives; the other keeps resolving)."""
    return _apply(state, lambda c: c.merge(event_id, body.other, body.author or "api"))


@router.post("/events/{event_id}/split", responses=WRITE_ERRORS)
def split(event_id: str, body: SplitIn, state: Writer) -> dict[str, Any]:
    """Split articles off the event (the part with the oldest article keeps the id)."""
    return _apply(state, lambda c: c.split(event_id, body.articles, body.author or "api"))


@router.post("/corrections/{correction_id}/undo", responses=WRITE_ERRORS)
def undo(correction_id: str, state: Writer, body: UndoIn | None = None) -> dict[str, Any]:
    """Undo a correction: its articles return where they were."""
    author = (body.author if body else "") or "api"
    return _apply(state, lambda c: c.undo(correction_id, author))


@router.get("/corrections")
def corrections(state: State) -> dict[str, Any]:
    """Every correction, oldest first, with time, author and whether it was undone."""
    items = [c.to_json() for c in state.store.corrections()]
    return {"corrections": items, "total": len(items)}


@pages.get("/articles/{article_id:path}/why", response_class=HTMLResponse)
def why_page(article_id: str, request: Request, state: State) -> HTMLResponse:
    """The why page: the decision, its candidates and the evidence, server-rendered."""
    return render(request, "why.html", {"e": explainer(state).article(article_id), "q": ""})
