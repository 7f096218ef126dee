"""The HTTP app: a JSON API under ``/api`` and server-rendered pages on the same resources.

>>> from storyline.run.pipeline import Pipeline
>>> from storyline.represent.encoder import HashingEncoder
>>> app = create_app(Pipeline(":memory:", encoder=HashingEncoder(), second=False))
>>> app.state.storyline.write_mode
'disabled'

Writes (``POST /api/articles``) go through one :class:`~storyline.run.pipeline.Pipeline` per app,
serialized by a lock; reads use the store directly. Who may write:

* ``token`` given: any client sending ``Authorization: Bearer <token>`` (401 without it, 403
  with a wrong one);
* no token and ``allow_no_auth=True``: only clients on a loopback address, with a loopback
  ``Host`` header (so a web page cannot reach it through DNS rebinding); the CLI accepts
  ``--no-auth`` only when the server itself is bound to a loopback address;
* otherwise writes are disabled (403 ``writes_disabled``) and the app is read-only.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from ..run.pipeline import Pipeline
from ..store import open_store
from ..store.base import Store
from ..version import __version__
from .errors import ApiError, BodyLimitMiddleware, install_error_handlers

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_BATCH = 500
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}

WEB_DIR = Path(__file__).resolve().parent


def is_loopback(host: str | None) -> bool:
    """Is ``host`` (an address or ``localhost``) a loopback address?"""
    if not host:
        return False
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(request: Request) -> str:
    """The ``Host`` header without its port (``[::1]`` keeps its brackets)."""
    host = request.headers.get("host", "").strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


class AppState:
    """What the app shares between requests: the store, the one writer, its lock."""

    def __init__(
        self,
        source: str | Path | Store | Pipeline,
        token: str | None,
        allow_no_auth: bool,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.source = source
        self.token = token or None
        self.write_mode = "token" if self.token else "loopback" if allow_no_auth else "disabled"
        self.max_batch = max_batch
        self.lock = threading.Lock()
        self._own_store = False
        self._store: Store | None = None
        self._pipeline: Pipeline | None = None
        if isinstance(source, Pipeline):
            self._pipeline, self._store = source, source.store
        elif isinstance(source, Store):
            self._store = source

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the store and build the pipeline (when writes are possible)."""
        if self._store is None:
            self._store = open_store(str(self.source))
            self._own_store = True
        if self._pipeline is None and self.write_mode != "disabled":
            log.info("loading the pipeline over %s", self._store.url)
            self._pipeline = Pipeline(self._store)

    def stop(self) -> None:
        if self._own_store and self._store is not None:
            self._store.close()
            self._store = None
            self._pipeline = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise ApiError(503, "unavailable", "the store is not open yet")
        return self._store

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise ApiError(503, "unavailable", "the pipeline is not loaded")
        return self._pipeline

    # -- authorization -----------------------------------------------------------------------
    def check_writer(self, request: Request) -> None:
        """Raise 401/403 unless this request may write."""
        if self.write_mode == "disabled":
            raise ApiError(
                403,
                "writes_disabled",
                "this server is read-only; start it with --token (or STORYLINE_TOKEN) "
                "to accept articles",
            )
        if self.write_mode == "loopback":
            client = request.client.host if request.client else None
            if not is_loopback(client) or _host_name(request) not in LOOPBACK_NAMES:
                raise ApiError(403, "forbidden", "writes without a token are loopback-only")
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(
                401,
                "unauthorized",
                "missing bearer token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        assert self.token is not None
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise ApiError(403, "forbidden", "invalid token")


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.storyline
    return state


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
    if state._store is not None:  # ready objects need no startup
        state.start()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response

    from .pages import router as pages
    from .routes import router as api

    app.include_router(api)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    return app
