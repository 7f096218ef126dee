"""What the app shares between requests and who may write.

:class:`AppState` holds the store, the one writing :class:`~storyline.run.pipeline.Pipeline`
and the lock that serializes writes; the routers get it through the ``State`` dependency, and
write routes through ``Writer``, which runs the write-permission check first. The request
limits (body size, batch size) live here too. Who may write:

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
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from ..run.pipeline import Pipeline
from ..store import open_store
from ..store.base import Store
from .errors import ApiError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_BATCH = 500
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str | None) -> bool:
    """Is ``host`` (an address or ``localhost``) a loopback address?

    >>> is_loopback("127.0.0.2"), is_loopback("[::1]"), is_loopback("localhost.evil.example")
    (True, True, False)
    """
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
    @property
    def is_open(self) -> bool:
        """Is the store open (given ready-made, or opened by :meth:`start`)?"""
        return self._store is not None

    def start(self) -> None:
        """Open the store and build the pipeline (when writes are possible)."""
        if self._store is None:
            self._store = open_store(str(self.source))
            self._own_store = True
        if self._pipeline is None and self.write_mode != "disabled":
            log.info("loading the pipeline over %s", self._store.url)
            self._pipeline = Pipeline(self._store)

    def stop(self) -> None:
        """Close the store, if :meth:`start` opened it (objects passed in stay open)."""
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
    """The app's :class:`AppState` (a FastAPI dependency)."""
    state: AppState = request.app.state.storyline
    return state


State = Annotated[AppState, Depends(get_state)]


def require_writer(request: Request, state: State) -> AppState:
    """The app's :class:`AppState`, once this request is allowed to write (a dependency)."""
    state.check_writer(request)
    return state


Writer = Annotated[AppState, Depends(require_writer)]
