"""One JSON error envelope for every error the HTTP app returns, and the exception handlers.

``{"error": {"code": "not_found", "message": "no event ev-1"}}`` — for unknown routes (404),
wrong methods (405), validation (422), auth (401/403), oversized bodies (413), library errors
(:mod:`storyline.errors`) and unexpected failures (500, without internals). A browser asking
for HTML on a page route gets the same error as a small HTML page instead, rendered by
:func:`.render.render_error`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputError, MissingExtra, NotFound, StoreError, StorylineError
from .render import render_error

log = logging.getLogger(__name__)

#: Default error code for each HTTP status.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    503: "unavailable",
}

_LIBRARY_STATUS: list[tuple[type[StorylineError], int]] = [
    (NotFound, 404),
    (InputError, 400),
    (MissingExtra, 501),
    (StoreError, 503),
]


class ApiError(StarletteHTTPException):
    """An HTTP error with a machine-readable ``code``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code


def envelope(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The error body: ``{"error": {"code": ..., "message": ..., **extra}}``."""
    return {"error": {"code": code, "message": message, **extra}}


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api") or request.url.path.startswith("/docs"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def error_response(
    request: Request | None,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The JSON envelope, or an HTML page for a browser on a page route."""
    if request is not None and _wants_html(request):
        return render_error(request, status, code, message, headers)
    return JSONResponse(envelope(code, message, **extra), status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.url.path}"
    elif exc.status_code == 405 and message == "Method Not Allowed":
        message = f"{request.method} is not allowed on {request.url.path}"
    return error_response(request, exc.status_code, code, message, dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, Any]] = [
        {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    loc: list[str] = details[0]["loc"] if details else []
    msg: str = details[0]["msg"] if details else "invalid request"
    message = f"{'.'.join(loc)}: {msg}" if loc else msg
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    return error_response(request, 422, "validation_error", message, details=details)


async def _library_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StorylineError)
    status = next((s for cls, s in _LIBRARY_STATUS if isinstance(exc, cls)), 500)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(request, status, exc.code, str(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every exception ``app`` raises with :func:`error_response`."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StorylineError, _library_error)
    app.add_exception_handler(Exception, _unexpected)
