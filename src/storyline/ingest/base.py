"""The reader contract: turn an input (file, directory, stdin) into articles or skips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..model import Article
from .compress import inner_name, open_input
from .decode import BinaryContent, cap_text, decode_bytes

MAX_FILE_BYTES = 64_000_000  # a file read as one article (text, HTML) is at most this large


@dataclass(frozen=True)
class Skip:
    """An input record that was not turned into an article, and why."""

    origin: str  # "path:line" or "path"
    reason: str


class Reader(Protocol):
    """Reads one kind of input. ``accepts`` looks at the path; ``read`` yields in file order."""

    def accepts(self, path: str) -> bool: ...

    def read(self, path: str) -> Iterator[Article | Skip]: ...


def build_article(
    article_id: str,
    text: str,
    origin: str,
    *,
    title: str | None,
    lang: str | None,
    published: dt.date | None,
    precision: str,
    source: str | None,
    url: str | None,
) -> Article:
    """The :class:`Article` a reader found: text capped (:func:`~.decode.cap_text`), and the
    date's ``precision`` kept only when there is a date (``"day"`` otherwise)."""
    return Article(
        id=article_id,
        text=cap_text(text, origin),
        title=title,
        lang=lang,
        published=published,
        source=source,
        url=url,
        origin=origin,
        published_precision=precision if published else "day",
    )


class SuffixReader:
    """A reader that accepts paths by their (case-insensitive) ``suffixes``."""

    suffixes: tuple[str, ...] = ()

    def accepts(self, path: str) -> bool:
        return inner_name(path).lower().endswith(self.suffixes)


class DecodedFileReader(SuffixReader):
    """Reads one whole file as text (BOM-aware, with fallbacks) into one article with
    :meth:`parse`; the id is the file stem. Empty and binary files are skipped."""

    def parse(self, text: str, article_id: str, origin: str) -> Article | Skip:
        raise NotImplementedError

    def read(self, path: str) -> Iterator[Article | Skip]:
        with open_input(path) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            yield Skip(path, f"file over {MAX_FILE_BYTES // 1_000_000} MB (one article)")
            return
        if not data.strip():
            yield Skip(path, "empty")
            return
        try:
            text = decode_bytes(data, path)
        except BinaryContent:
            yield Skip(path, "binary file")
            return
        yield self.parse(text, Path(inner_name(path)).stem, path)
