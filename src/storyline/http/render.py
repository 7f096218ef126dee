"""HTML rendering shared by the pages and the HTML error pages: the Jinja templates, their
filters (``safe_url``, ``nice_date``) and globals, and :func:`render` / :func:`render_error`,
which add the Content-Security-Policy header. Jinja autoescaping is on for every template:
article text is never trusted as HTML, and only http(s) URLs become links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..version import __version__

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

LANG_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "ar": "Arabic", "zh": "Chinese",
    "ja": "Japanese", "tr": "Turkish", "pl": "Polish", "uk": "Ukrainian", "fa": "Persian",
    "el": "Greek", "hi": "Hindi", "he": "Hebrew", "ko": "Korean", "is": "Icelandic",
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "nb": "Norwegian", "fi": "Finnish",
    "cs": "Czech", "hu": "Hungarian", "ro": "Romanian", "bg": "Bulgarian", "sr": "Serbian",
    "hr": "Croatian", "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "ca": "Catalan",
    "ur": "Urdu", "bn": "Bengali",
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
    """``4 Mar 2024`` for a date or an ISO string; ``undated`` for nothing.

    >>> nice_date("2024-03-04T10:00:00"), nice_date(None), nice_date("soon")
    ('4 Mar 2024', 'undated', 'soon')
    """
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


def render(
    request: Request, name: str, context: dict[str, Any], status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    """Template ``name`` rendered with ``context``, with the Content-Security-Policy header."""
    resp = TEMPLATES.TemplateResponse(request, name, context, status_code=status, headers=headers)
    resp.headers["Content-Security-Policy"] = CSP
    return resp


def render_error(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None
) -> HTMLResponse:
    """The HTML page of an error (what a browser gets instead of the JSON envelope)."""
    ctx = {"status": status, "code": code, "message": message, "q": ""}
    return render(request, "error.html", ctx, status=status, headers=headers)
