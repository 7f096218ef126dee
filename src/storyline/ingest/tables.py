"""Tabular and JSON documents: CSV / TSV (a header row), JSON (an array of articles, one
article object, or ``{"articles": [...]}``), Parquet and Arrow (``storyline[parquet]``).

Each row or object is one article, validated like a JSON Lines record; columns are found by
name (``text``/``body``/``content``, ``title``/``headline``, ``published``/``date``, …) or
given with a mapping (``CsvReader(columns={"text": "story"})``). CSV, TSV and JSON may be
``.gz``/``.bz2``/``.xz``; CSV, TSV and Parquet are streamed.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from ..errors import MissingExtra, require
from ..model import Article
from .base import Skip, SuffixReader
from .compress import open_input
from .decode import decode_line, sniff_utf16
from .jsonl import article_from_record

logger = logging.getLogger(__name__)

__all__ = ["CsvReader", "JsonReader", "ParquetReader", "read_csv_binary", "read_json_binary"]

#: column names looked for, per field, when no mapping is given (case-insensitive)
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "guid", "article_id", "uuid"),
    "text": ("text", "body", "content", "article", "maintext", "description"),
    "title": ("title", "headline"),
    "published": ("published", "date", "pubdate", "published_at", "publish_date", "datetime"),
    "lang": ("lang", "language"),
    "source": ("source", "outlet", "publisher", "site"),
    "url": ("url", "link"),
}
MAX_CELL = 16_000_000  # characters in one CSV cell
MAX_JSON_BYTES = 512_000_000  # a JSON document is parsed whole: at most this large


def map_columns(names: Iterable[str], columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Field → column name: ``columns`` first, then the first alias present."""
    names = list(names)
    lower = {n.strip().lower().lstrip("\ufeff"): n for n in names if isinstance(n, str)}
    out: dict[str, str] = {}
    for field, aliases in ALIASES.items():
        given = (columns or {}).get(field)
        if given is not None:
            if given in names:
                out[field] = given
            continue
        for alias in aliases:
            if alias in lower:
                out[field] = lower[alias]
                break
    return out


def _record(row: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    rec = {field: row.get(col) for field, col in mapping.items()}
    if rec.get("id") == "":
        rec["id"] = None
    return rec


def _text_stream(fh: IO[bytes], name: str) -> io.TextIOWrapper:
    """A byte stream as text: UTF-8 (BOM dropped), UTF-16, or the legacy encoding of its head."""
    head = fh.peek(65536)[:65536] if hasattr(fh, "peek") else b""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    elif utf16 := sniff_utf16(head):
        enc = utf16
    else:
        enc = decode_line(head[: head.rfind(b"\n") + 1] or head)[1]
        enc = "utf-8-sig" if enc == "utf-8" else enc
        if enc != "utf-8-sig":
            logger.warning("%s: not UTF-8; read as %s", name, enc)
    return io.TextIOWrapper(fh, encoding=enc, errors="replace", newline="")  # type: ignore[arg-type]


def read_csv_binary(
    fh: IO[bytes], name: str, delimiter: str | None = None, columns: Mapping[str, str] | None = None
) -> Iterator[Article | Skip]:
    """Rows of a CSV/TSV stream with a header row; origins ``name:LINE``."""
    text = _text_stream(fh, name)
    if delimiter is None:
        first = text.buffer.peek(4096)[:4096] if hasattr(text.buffer, "peek") else b""
        delimiter = "\t" if first.split(b"\n", 1)[0].count(b"\t") > first.split(b"\n", 1)[0].count(b",") else ","
    csv.field_size_limit(MAX_CELL)
    reader = csv.DictReader(text, delimiter=delimiter)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        yield Skip(name, f"malformed CSV header: {exc}")
        return
    mapping = map_columns(header, columns)
    if "text" not in mapping:
        yield Skip(name, f"no text column (columns: {', '.join(map(str, header))[:200]})")
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Skip(f"{name}:{reader.line_num}", f"malformed CSV: {exc}; the rest of the file is not read")
            return
        yield article_from_record(_record(row, mapping), f"{name}:{reader.line_num}")


def read_json_binary(
    fh: IO[bytes], name: str, columns: Mapping[str, str] | None = None
) -> Iterator[Article | Skip]:
    """A JSON document: an array of articles, one article, or ``{"articles": [...]}``
    (also ``items``, ``data``, ``results``); origins ``name:N`` (N from 1)."""
    data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        yield Skip(name, f"JSON document over {MAX_JSON_BYTES // 1_000_000} MB; use JSON Lines")
        return
    enc = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else sniff_utf16(data[:8192])
    text = data.decode(enc, errors="replace") if enc else decode_line(data)[0]
    try:
        doc = json.loads(text.lstrip("\ufeff"), parse_int=lambda s: int(s) if len(s) < 1000 else s)
    except (ValueError, RecursionError) as exc:
        yield Skip(name, f"malformed JSON: {str(exc)[:200]}")
        return
    if isinstance(doc, dict):
        for key in ("articles", "items", "data", "results", "entries"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
    rows = doc if isinstance(doc, list) else [doc]
    for n, row in enumerate(rows, 1):
        if isinstance(row, dict) and columns:
            row = {**row, **_record(row, map_columns(row.keys(), columns))}
        yield article_from_record(row, f"{name}:{n}")


class CsvReader(SuffixReader):
    """Reads ``.csv`` and ``.tsv`` files (also compressed): a header row, one article a row."""

    suffixes = (".csv", ".tsv", ".tab")

    def __init__(self, columns: Mapping[str, str] | None = None) -> None:
        self.columns = dict(columns or {})

    def read(self, path: str) -> Iterator[Article | Skip]:
        tab = path.lower().replace(".gz", "").replace(".bz2", "").replace(".xz", "").endswith((".tsv", ".tab"))
        with open_input(path) as fh:
            if not fh.peek(4096)[:4096].strip():
                yield Skip(path, "empty")
                return
            yield from read_csv_binary(fh, path, "\t" if tab else None, self.columns)


class JsonReader(SuffixReader):
    """Reads ``.json`` files (also compressed): an array of articles, one article, or
    ``{"articles": [...]}``."""

    suffixes = (".json",)

    def __init__(self, columns: Mapping[str, str] | None = None) -> None:
        self.columns = dict(columns or {})

    def read(self, path: str) -> Iterator[Article | Skip]:
        with open_input(path) as fh:
            if not fh.peek(4096)[:4096].strip():
                yield Skip(path, "empty")
                return
            yield from read_json_binary(fh, path, self.columns)


class ParquetReader(SuffixReader):
    """Reads Parquet (``.parquet``, ``.pq``) and Arrow IPC / Feather (``.arrow``,
    ``.feather``) files in batches; needs ``pip install 'storyline[parquet]'``."""

    suffixes = (".parquet", ".pq", ".arrow", ".feather", ".ipc")
    batch = 1000

    def __init__(self, columns: Mapping[str, str] | None = None) -> None:
        self.columns = dict(columns or {})

    def read(self, path: str) -> Iterator[Article | Skip]:
        try:
            require("pyarrow", "parquet")
        except MissingExtra as exc:
            yield Skip(path, str(exc))
            return
        try:
            batches = self._batches(path)
            n = 0
            mapping: dict[str, str] | None = None
            for batch in batches:
                if mapping is None:
                    mapping = map_columns(batch.schema.names, self.columns)
                    if "text" not in mapping:
                        yield Skip(path, f"no text column (columns: {', '.join(batch.schema.names)[:200]})")
                        return
                for row in batch.to_pylist():
                    n += 1
                    yield article_from_record(_record(row, mapping), f"{path}:{n}")
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            yield Skip(path, f"unreadable table: {str(exc)[:200]}")

    def _batches(self, path: str) -> Iterator[Any]:
        if path.lower().endswith(".parquet") or path.lower().endswith(".pq") or _is_parquet(path):
            import pyarrow.parquet as pq

            yield from pq.ParquetFile(path).iter_batches(batch_size=self.batch)
            return
        import pyarrow as pa
        from pyarrow import ipc

        with pa.memory_map(path) as source:
            try:
                reader = ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i)
            except pa.ArrowInvalid:
                source.seek(0)
                yield from ipc.open_stream(source)


def _is_parquet(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"
