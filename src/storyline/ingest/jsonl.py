"""JSON Lines articles (``.jsonl``, ``.ndjson``, stdin): one object per line, streamed."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
import math
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any, TextIO

from ..model import Article, content_hash
from ..prepare.dates import parse_date
from ..prepare.guard import normalize_id, strip_controls, tame_text
from .base import Skip, SuffixReader, build_article
from .compress import open_input
from .decode import cap_text, decode_line, looks_binary, sniff_utf16

logger = logging.getLogger(__name__)

__all__ = [
    "JsonlReader",
    "article_from_record",
    "read_jsonl_binary",
    "read_jsonl_lines",
    "read_jsonl_stream",
]

_TEXT_KEYS = ("text", "body", "content")
_STR_KEYS = ("title", "lang", "source", "url")
# JSON may escape lone UTF-16 surrogates ("\\ud83d"); they cannot be stored as UTF-8
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _missing(value: Any) -> bool:
    """None, or a table's empty cell (NaN, NaT)."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NaTType"


def _published(raw: Any, origin: str) -> tuple[dt.date | None, str]:
    """The publication date of a record's ``published`` value; an unusable one is dropped
    with a warning (the article is kept)."""
    if _missing(raw):
        return None, "day"
    if isinstance(raw, dt.datetime):
        return raw.date(), "day"
    if isinstance(raw, dt.date):
        return raw, "day"
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 10_000:
        raw = str(raw)
    if not isinstance(raw, str):
        logger.warning("%s: published date of type %s dropped; the article is kept", origin, type(raw).__name__)
        return None, "day"
    published, precision = parse_date(raw[:100])
    if raw.strip() and published is None:
        logger.warning("%s: unparseable published date %r dropped; the article is kept", origin, raw[:100])
    return published, precision


def article_from_record(record: Any, origin: str) -> Article | Skip:
    """Validate one decoded JSON value and turn it into an :class:`Article` (or a Skip).

    Only the text is required: any other field of the wrong type is dropped with a warning
    and the article kept.
    """
    if not isinstance(record, dict):
        return Skip(origin, f"expected a JSON object, got {type(record).__name__}")
    record = {
        k: _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in record.items()
    }
    text: Any = None
    for key in _TEXT_KEYS:
        if not _missing(record.get(key)):
            text = record[key]
            if not isinstance(text, str):
                return Skip(origin, f"field {key!r} must be a string, got {type(text).__name__}")
            break
    if text is None or not text.strip():
        return Skip(origin, "missing or empty text")
    text = cap_text(text.strip(), origin)
    if not tame_text(strip_controls(text)).strip():  # control characters or a blob only
        return Skip(origin, "missing or empty text")
    fields: dict[str, str | None] = {}
    for key in _STR_KEYS:
        value = record.get(key)
        if not _missing(value) and not isinstance(value, str):
            logger.warning("%s: field %r of type %s dropped", origin, key, type(value).__name__)
            value = None
        fields[key] = value.strip() or None if isinstance(value, str) else None
    raw_id = record.get("id")
    if isinstance(raw_id, float) and raw_id.is_integer():
        raw_id = int(raw_id)
    if _missing(raw_id) or isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        if not _missing(raw_id):
            logger.warning("%s: id of type %s dropped; the content hash is the id", origin, type(raw_id).__name__)
        raw_id = None
    published, precision = _published(record.get("published"), origin)
    article_id = normalize_id(raw_id)
    # ``text`` is capped already (the id hashes it): build_article's cap is then a no-op
    return build_article(
        article_id or content_hash(text, fields["title"]),
        text,
        origin,
        title=fields["title"],
        lang=fields["lang"],
        published=published,
        precision=precision,
        source=fields["source"],
        url=fields["url"],
    )


def _int(digits: str) -> int | str:
    """A JSON integer; one too long for Python to convert stays a string (an id)."""
    return int(digits) if len(digits) < 1000 else digits


def _parse_line(line: str, origin: str) -> Article | Skip | None:
    line = line.strip()
    if not line:
        return None
    try:
        record = json.loads(line, parse_int=_int)
    except json.JSONDecodeError as exc:
        return Skip(origin, f"malformed JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return Skip(origin, "malformed JSON: nested too deeply")
    except ValueError as exc:
        return Skip(origin, f"malformed JSON: {exc}")
    return article_from_record(record, origin)


def read_jsonl_lines(lines: Iterable[str], name: str) -> Iterator[Article | Skip]:
    """Parse already-decoded lines; blank lines are ignored; origins are ``name:LINE``. A
    byte order mark at the start of any line (files concatenated) is dropped."""
    for lineno, line in enumerate(lines, 1):
        item = _parse_line(line.lstrip("\ufeff"), f"{name}:{lineno}")
        if item is not None:
            yield item


def read_jsonl_stream(stream: TextIO, name: str = "<stdin>") -> Iterator[Article | Skip]:
    """Read JSON Lines from a text stream."""
    yield from read_jsonl_lines(stream, name)


def _looks_binary_jsonl(head: bytes) -> bool:
    """Binary, unless it starts like JSON Lines with only a few stray control bytes (a NUL in
    one line): then that line is skipped on its own and the other lines are read."""
    if not looks_binary(head):
        return False
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return True
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return ctrl / len(head) > 0.1


# JSON Lines end lines with LF, CRLF or CR only; never split at U+2028, U+0085 and other
# characters that str.splitlines() takes for line ends (they may stand inside a JSON string)
_LINE_END = re.compile("\r\n|\r|\n")


def _decoded_lines(fh: IO[bytes], name: str) -> Iterator[str]:
    """The lines of a byte stream, each decoded on its own (UTF-8, else the most plausible
    legacy encoding, reported); CR-only line ends are line ends too."""
    lineno = 0
    for raw in fh:
        for part in raw.rstrip(b"\r\n").split(b"\r") if raw.rstrip(b"\n").count(b"\r") else (raw,):
            lineno += 1
            text, enc = decode_line(part)
            if enc != "utf-8":
                logger.warning("%s:%d: not UTF-8; decoded as %s", name, lineno, enc)
            yield text


def read_jsonl_binary(fh: IO[bytes], name: str) -> Iterator[Article | Skip]:
    """Read JSON Lines from a buffered byte stream (a file, a pipe, stdin), line by line."""
    head = fh.peek(8192)[:8192] if hasattr(fh, "peek") else b""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or sniff_utf16(head):
        enc = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else sniff_utf16(head)
        text = fh.read().decode(enc or "utf-16", errors="replace")
        yield from read_jsonl_lines(_LINE_END.split(text), name)
        return
    if head and _looks_binary_jsonl(head):
        yield Skip(name, "binary file")
        return
    yield from read_jsonl_lines(_decoded_lines(fh, name), name)


class JsonlReader(SuffixReader):
    """Reads ``.jsonl`` / ``.ndjson`` files (also ``.gz``, ``.bz2``, ``.xz``) line by line
    (never the whole file at once)."""

    suffixes = (".jsonl", ".ndjson", ".jsonlines")

    def read(self, path: str) -> Iterator[Article | Skip]:
        with open_input(path) as fh:
            if not fh.peek(8192)[:8192].strip():
                yield Skip(path, "empty")
                return
            yield from read_jsonl_binary(fh, path)
