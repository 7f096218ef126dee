"""Streams without a name to go by (stdin, pipes, ``<(zcat x.gz)``): the format is read from
the content. Compressed streams are decompressed first; then JSON Lines (``{`` and a complete
object on the first line), a JSON document (``[``, or ``{`` spanning lines), a feed or an HTML
page (``<``), Parquet (``PAR1``, spooled to a temporary file), CSV/TSV (a header row naming a
text column), else one plain-text article.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

from ..model import Article
from .base import Skip
from .compress import decompressing
from .decode import BinaryContent, decode_bytes, looks_binary, sniff_utf16
from .feeds import read_feed_bytes
from .html import article_from_html
from .jsonl import read_jsonl_binary
from .tables import ALIASES, ParquetReader, read_csv_binary, read_json_binary
from .text import parse_text_article

__all__ = ["read_stream", "sniff_format"]

MAX_STREAM_DOC = 64_000_000  # a stream read as one document (text, HTML, feed)
_FEED = re.compile(rb"<(rss|feed|rdf:RDF)\b", re.IGNORECASE)
_TEXT_COLUMNS = {a for a in ALIASES["text"]}


def sniff_format(head: bytes) -> str:
    """``jsonl``, ``json``, ``feed``, ``html``, ``parquet``, ``csv``, ``binary`` or ``text``.

    >>> sniff_format(b'{"id": 1, "text": "a"}\\n{"id": 2'), sniff_format(b'[{"text": "a"}]')
    ('jsonl', 'json')
    >>> sniff_format(b"id,title,text\\n1,T,Body"), sniff_format(b"Just words.")
    ('csv', 'text')
    """
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1"):
        return "arrow"
    enc = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else sniff_utf16(head)
    text = head.decode(enc, errors="replace").encode("utf-8") if enc else head
    body = text.lstrip(b"\xef\xbb\xbf \t\r\n")
    if looks_binary(text):
        return "binary"
    if body.startswith(b"["):
        return "json"
    if body.startswith(b"{"):
        first = body.split(b"\n", 1)[0].strip()
        try:
            json.loads(first)
            return "jsonl"
        except ValueError:
            return "jsonl" if b"\n{" in body and len(first) >= len(body) * 0.9 else "json"
    if body.startswith(b"<"):
        return "feed" if _FEED.search(body[:4096]) else "html"
    header = body.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lower()
    for sep in ("\t", ",", ";"):
        cells = {c.strip().strip('"').lstrip("\ufeff") for c in header.split(sep)}
        if len(cells) >= 2 and cells & _TEXT_COLUMNS:
            return "csv"
    return "text"


def read_stream(raw: IO[bytes], name: str) -> Iterator[Article | Skip]:
    """Read a byte stream by its content (see the module docstring); nothing is seeked."""
    fh = decompressing(raw)
    head = fh.peek(65536)[:65536]
    if not head.strip():
        yield Skip(name, "empty")
        return
    kind = sniff_format(head)
    if kind == "jsonl":
        yield from read_jsonl_binary(fh, name)
    elif kind == "csv":
        yield from read_csv_binary(fh, name)
    elif kind == "json":
        yield from read_json_binary(fh, name)
    elif kind in ("parquet", "arrow"):
        yield from _spooled(fh, name, ".parquet" if kind == "parquet" else ".arrow")
    elif kind == "binary":
        yield Skip(name, "binary content")
    else:
        data = fh.read(MAX_STREAM_DOC + 1)
        if len(data) > MAX_STREAM_DOC:
            yield Skip(name, f"over {MAX_STREAM_DOC // 1_000_000} MB read as one document")
            return
        if kind == "feed":
            yield from read_feed_bytes(data, name)
            return
        try:
            text = decode_bytes(data, name)
        except BinaryContent:
            yield Skip(name, "binary content")
            return
        stem = os.path.basename(name).rsplit(".", 1)[0] or "stdin"
        yield article_from_html(text, stem, name) if kind == "html" else parse_text_article(text, stem, name)


def _spooled(fh: IO[bytes], name: str, suffix: str) -> Iterator[Article | Skip]:
    """A table format that needs seeking: copied to a temporary file first."""
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        shutil.copyfileobj(fh, tmp)
        tmp.flush()
        for item in ParquetReader().read(tmp.name):
            if isinstance(item, Skip):
                item = Skip(item.origin.replace(tmp.name, name), item.reason)
            elif item.origin:
                import dataclasses

                item = dataclasses.replace(item, origin=item.origin.replace(tmp.name, name))
            yield item


def stdin_bytes(stream: object) -> IO[bytes]:
    """The byte stream under a text stream such as ``sys.stdin`` (or the stream itself)."""
    buf = getattr(stream, "buffer", None)
    if buf is not None:
        return buf  # type: ignore[no-any-return]
    if isinstance(stream, io.TextIOBase) or hasattr(stream, "read"):
        data = stream.read()  # type: ignore[attr-defined]
        return io.BytesIO(data.encode("utf-8") if isinstance(data, str) else data)
    raise TypeError(f"not a stream: {type(stream).__name__}")
