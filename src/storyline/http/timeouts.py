"""A header timeout for uvicorn's h11 protocol: a client that has not sent a whole request
head within :data:`HEADER_TIMEOUT` seconds of connecting (or of its last response) is
disconnected, so slow clients trickling bytes cannot hold connections open."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT", "KEEP_ALIVE", "HeaderTimeoutH11"]

HEADER_TIMEOUT = 10.0
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head."""

    header_timeout = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.arm_head_deadline()

    def arm_head_deadline(self) -> None:
        self.disarm_head_deadline()
        self.head_deadline = self.loop.call_later(self.header_timeout, self.head_timed_out)

    def disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def head_timed_out(self) -> None:
        self.head_deadline = None
        if self.cycle is None or self.cycle.response_complete:  # no request in progress
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self.disarm_head_deadline()  # a whole head arrived: the request runs

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self.arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm_head_deadline()
        super().connection_lost(exc)
