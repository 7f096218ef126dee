"""The HTTP app: a JSON API under ``/api`` and server-rendered pages on the same resources.

>>> from storyline.run.pipeline import Pipeline
>>> from storyline.represent.encoder import HashingEncoder
>>> app = create_app(Pipeline(":memory:", encoder=HashingEncoder(), second=False))
>>> app.state.storyline.write_mode
'disabled'

:func:`create_app` only wires the parts together: the shared state (:mod:`.state`), the
middleware (:mod:`.middleware`), the error handlers (:mod:`.errors`), the JSON routes
(:mod:`.routes`), the pages (:mod:`.pages`) and the static files. Writes
(``POST /api/articles``) go through one :class:`~storyline.run.pipeline.Pipeline` per app,
serialized by a lock; reads use the store directly. Who may write is told in :mod:`.state`:
a bearer token, loopback clients only (``allow_no_auth``), or nobody (read-only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ..run.pipeline import Pipeline
from ..store.base import Store
from ..version import __version__
from .corrections import pages as why_pages
from .corrections import router as corrections_router
from .errors import install_error_handlers
from .feeds import router as feeds_router
from .middleware import BodyLimitMiddleware, security_headers
from .pages import router as pages_router
from .routes import router as api_router
from .similarity import router as similarity_router
from .state import MAX_BATCH, MAX_BODY_BYTES, AppState, is_loopback

__all__ = ["create_app", "is_loopback"]

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    source: str | Path | Store | Pipeline,
    token: str | None = None,
    allow_no_auth: bool = False,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
) -> FastAPI:
    """Build the app over a store URL / path, an open :class:`Store` or a ready Pipeline.

    With a URL the store is opened (and the pipeline built, when writes are enabled) at
    startup and closed at shutdown; objects passed in are used as they are.
    """
    state = AppState(source, token, allow_no_auth, max_batch=max_batch)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            state.stop()

    app = FastAPI(
        title="storyline",
        version=__version__,
        summary="Multilingual news articles in, events and stories out.",
        lifespan=lifespan,
    )
    app.state.storyline = state
    if state.is_open:  # ready objects need no startup
        state.start()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.middleware("http")(security_headers)
    app.include_router(corrections_router)  # before api_router: /api/articles/{id} takes any path
    app.include_router(api_router)
    app.include_router(similarity_router)
    app.include_router(why_pages)  # before pages_router: /articles/{id} takes any path
    app.include_router(pages_router)
    app.include_router(feeds_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
