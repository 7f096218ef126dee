"""Every field of an incoming article checked on its own, before any stage that costs.

:func:`check_article` is applied to each article a run receives (from a reader, the HTTP API
or the Python API): an unusable field is dropped or repaired with a logged reason, and the
article is kept whenever it still has text. It also bounds what an article can cost later:

* ids: control characters removed, at most :data:`MAX_ID_CHARS` characters (a longer id is
  cut and given a hash suffix, so distinct long ids stay distinct);
* dates: out of range (before :data:`MIN_YEAR`, more than a year ahead), placeholders
  (``0001-01-01``, ``1970-01-01``, ``9999-…``) and unparseable ones are dropped;
* title and text: control characters removed, capped in characters, and pathological
  "words" tamed (:func:`tame_text`): long runs of combining marks cut, base64/hex blobs
  dropped, other runs without a space broken up, so that no later stage meets a token or a
  sentence of unbounded length.

>>> a = check_article(Article("x\\x1b[31m", "Hello world", published="9999-12-31"))
>>> a.id, a.published
('x[31m', None)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
from typing import Any

from ..model import Article, content_hash
from .dates import parse_date
from .lang import normalize_lang

log = logging.getLogger(__name__)

__all__ = [
    "MAX_ID_CHARS",
    "MAX_RUN_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "check_article",
    "normalize_id",
    "strip_controls",
    "tame_text",
    "usable_date",
]

MAX_ID_CHARS = 200
MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 200_000
MAX_FIELD_CHARS = 2000  # source, url
MAX_MARKS = 4  # combining marks kept on one character
MIN_BLOB_CHARS = 64  # a base64/hex run at least this long (with a digit) is dropped
MAX_RUN_CHARS = 200  # other runs without a space are broken every this many characters
MIN_YEAR = 1800
PLACEHOLDERS = frozenset({dt.date(1, 1, 1), dt.date(1900, 1, 1), dt.date(1970, 1, 1)})

# C0 and C1 controls but tab and newline; DEL; bidi overrides and isolates
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_ID_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_LINE_SEPS = re.compile("\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0e31-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_MARK_RUN = re.compile(f"([{_MARKS}]{{{MAX_MARKS}}})[{_MARKS}]+")
_LONG_RUN = re.compile(rf"\S{{{MIN_BLOB_CHARS},}}")
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]+")
_DIGIT = re.compile(r"\d")


def strip_controls(value: str) -> str:
    """``value`` without control characters (tab and newline kept), line separators as
    newlines and lone surrogates as U+FFFD."""
    value = _SURROGATES.sub("\ufffd", value)
    return _CONTROLS.sub("", _LINE_SEPS.sub("\n", value))


def _tame_run(m: re.Match[str]) -> str:
    run = m.group(0)
    if _BLOB.fullmatch(run) and _DIGIT.search(run):
        return " "  # base64, hex, a hash: nothing to cluster on, and costly to tokenise
    if len(run) <= MAX_RUN_CHARS:
        return run
    return " ".join(run[i : i + MAX_RUN_CHARS] for i in range(0, len(run), MAX_RUN_CHARS))


def tame_text(text: str) -> str:
    """Pathological "words" made harmless: at most :data:`MAX_MARKS` combining marks in a
    row, base64/hex blobs dropped, other runs without a space broken every
    :data:`MAX_RUN_CHARS` characters.

    >>> tame_text("Zalgo" + "\\u0301" * 50) == "Zalgo" + "\\u0301" * 4
    True
    >>> tame_text("data " + "QUJD" * 40 + "1 end")
    'data   end'
    >>> len(max(tame_text("x" * 1000).split(), key=len))
    200
    """
    text = _MARK_RUN.sub(r"\1", text)
    return _LONG_RUN.sub(_tame_run, text)


def _short(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, at a space when there is one near the end."""
    if len(value) <= limit:
        return value
    cut = value[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit * 0.8 else cut


def normalize_id(raw: Any) -> str | None:
    """An article id as it is stored: a string without control characters, at most
    :data:`MAX_ID_CHARS` characters (longer ones keep a hash suffix); None when empty.

    >>> normalize_id(10**30), normalize_id(" a\\tb "), normalize_id("\\x07"), len(normalize_id("x" * 999))
    ('1000000000000000000000000000000', 'ab', None, 200)
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        try:
            value = str(raw)
        except ValueError:  # more digits than Python converts: a hash of its hex form
            value = "int-" + hashlib.sha1(hex(raw).encode()).hexdigest()[:16]
    else:
        value = str(raw)
    value = _ID_CONTROLS.sub("", _SURROGATES.sub("\ufffd", value)).strip()
    if not value:
        return None
    if len(value) > MAX_ID_CHARS:
        digest = hashlib.sha1(value.encode("utf-8", "replace")).hexdigest()[:16]
        value = f"{value[: MAX_ID_CHARS - 17]}~{digest}"
    return value


def usable_date(value: Any) -> tuple[dt.date | None, str | None]:
    """``(date, None)`` for a plausible publication date, else ``(None, why)``.

    >>> usable_date(dt.date(2999, 1, 1))[1]
    'out of range: 2999-01-01'
    >>> usable_date(dt.date(1970, 1, 1))[1]
    'placeholder: 1970-01-01'
    """
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return None, f"not a date: {type(value).__name__}"
    if value in PLACEHOLDERS or (value.month == 12 and value.day == 31 and value.year >= 9000):
        return None, f"placeholder: {value.isoformat()}"
    latest = dt.date.today() + dt.timedelta(days=366)
    if value.year < MIN_YEAR or value > latest:
        return None, f"out of range: {value.isoformat()}"
    return value, None


def check_article(article: Article) -> Article:
    """``article`` with each field checked on its own (see the module docstring); a
    dropped or repaired field is logged with its reason and the article's origin."""
    where = article.origin or article.id
    changes: dict[str, Any] = {}
    text = article.text if isinstance(article.text, str) else ""
    tamed = tame_text(strip_controls(text))
    if len(tamed) > MAX_TEXT_CHARS:
        log.warning("%s: text has %d characters; truncated to %d", where, len(tamed), MAX_TEXT_CHARS)
        tamed = tamed[:MAX_TEXT_CHARS]
    if tamed != text:
        changes["text"] = tamed
    title = article.title
    if title is not None:
        fixed = tame_text(" ".join(strip_controls(str(title)).split()))
        if len(fixed) > MAX_TITLE_CHARS:
            log.warning("%s: title has %d characters; cut to %d", where, len(fixed), MAX_TITLE_CHARS)
            fixed = _short(fixed, MAX_TITLE_CHARS)
        if fixed != title:
            changes["title"] = fixed or None
    published = article.published
    if isinstance(published, str):
        published = parse_date(published)[0]
    date, why = usable_date(published)
    if why:
        log.warning("%s: published date dropped (%s); the article is kept", where, why)
    if date != article.published:
        changes["published"] = date
        if date is None:
            changes["published_precision"] = "day"
    lang = normalize_lang(article.lang) if article.lang else None
    if lang != article.lang:
        changes["lang"] = lang
    for key in ("source", "url", "origin"):
        value = getattr(article, key)
        if value is None:
            continue
        fixed = _ID_CONTROLS.sub("", str(value)).strip()[:MAX_FIELD_CHARS] or None
        if fixed != value:
            changes[key] = fixed
    aid = normalize_id(article.id)
    if aid is None:
        aid = content_hash(changes.get("text", text), changes.get("title", title))
    if aid != article.id:
        changes["id"] = aid
    return dataclasses.replace(article, **changes) if changes else article
