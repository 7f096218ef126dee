"""Ingest: read files, directories and stdin into :class:`~storyline.model.Article` objects.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> with open(os.path.join(d, "a.txt"), "w") as f:
...     _ = f.write("date: 2020-06-11\\nTalks resume\\nThe two countries met on Thursday.")
>>> [a.title for a in read_inputs([d])]
['Talks resume']
"""

from __future__ import annotations

import logging
import lzma
import os
import stat
import sys
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ..errors import InputError
from ..model import Article
from .base import Reader, Skip
from .decode import MAX_TEXT_CHARS
from .feeds import FeedReader, OpmlReader
from .html import HtmlReader
from .jsonl import JsonlReader
from .sniff import read_stream, stdin_bytes
from .tables import CsvReader, JsonReader, ParquetReader
from .text import TextReader

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_TEXT_CHARS",
    "CsvReader",
    "FeedReader",
    "HtmlReader",
    "JsonReader",
    "JsonlReader",
    "OpmlReader",
    "ParquetReader",
    "Reader",
    "Skip",
    "TextReader",
    "default_readers",
    "read_inputs",
    "read_path",
]


def default_readers() -> list[Reader]:
    """The built-in readers, in the order they are asked."""
    return [
        TextReader(), JsonlReader(), HtmlReader(), FeedReader(), OpmlReader(),
        CsvReader(), JsonReader(), ParquetReader(),
    ]  # fmt: skip


def _walk(root: Path) -> tuple[list[Path], list[Skip]]:
    """The files under ``root`` (sorted, hidden ones left out) and the folders that could
    not be listed."""
    files: list[Path] = []
    skips: list[Skip] = []

    def unreadable(exc: OSError) -> None:
        skips.append(Skip(str(exc.filename or root), f"unreadable folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files.extend(Path(dirpath) / f for f in filenames if not f.startswith("."))
    return sorted(files, key=lambda p: p.relative_to(root).as_posix()), skips


# a file that cannot be read to its end: I/O errors, truncated or corrupt compressed data
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error, UnicodeError)


def _why(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc or type(exc).__name__)


def _kind(path: Path) -> str | None:
    """None for a regular file; else what it is (``fifo``, ``device``, ``socket``, …)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # reading it says why
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "not a regular file"


def read_path(
    path: str, readers: Sequence[Reader] | None = None, explicit: bool = True
) -> Iterator[Article | Skip]:
    """Read one file. An explicitly named file of unknown type is read as text."""
    readers = list(readers) if readers is not None else default_readers()
    for reader in readers:
        if reader.accepts(path):
            yield from reader.read(path)
            return
    if explicit:  # an explicitly named file of another type: its content says what it is
        logger.info("%s: unknown file type, reading it by its content", path)
        with open(path, "rb") as fh:
            yield from read_stream(fh, path)
    else:
        suffix = Path(path).suffix.lower() or "no suffix"
        yield Skip(path, f"unsupported file type ({suffix})")


def read_inputs(
    paths: Sequence[str],
    stdin: TextIO | None = None,
    readers: Sequence[Reader] | None = None,
) -> Iterator[Article | Skip]:
    """Read every input in order: files, directories (recursive, sorted), ``-`` for stdin.

    Yields articles and :class:`Skip` records (what was not read, and why). A missing path
    raises :class:`~storyline.errors.InputError` before anything from it is read.
    """
    if isinstance(paths, str):
        paths = [paths]
    for p in paths:
        if p == "-":
            yield from read_stream(stdin_bytes(stdin if stdin is not None else sys.stdin), "<stdin>")
            continue
        path = Path(p)
        if not path.exists():
            raise InputError(f"{p}: no such file or directory")
        if path.is_dir():
            files, unreadable = _walk(path)
            yield from unreadable
            if not files and not unreadable:
                yield Skip(str(path), "empty folder (no files to read)")
            for f in files:
                kind = _kind(f)
                if kind is not None:  # never opened: a FIFO would block, a device never end
                    yield Skip(str(f), f"{kind}, not read (name it on the command line to read it)")
                    continue
                try:
                    yield from read_path(str(f), readers, explicit=False)
                except READ_ERRORS as exc:  # what was read before the error is kept
                    yield Skip(str(f), f"unreadable: {_why(exc)}")
        elif _kind(path) is not None:  # named on the command line: a pipe, <(...), a device
            try:
                with open(path, "rb") as fh:
                    yield from read_stream(fh, str(path))
            except READ_ERRORS as exc:
                yield Skip(str(path), f"unreadable: {_why(exc)}")
        else:
            try:
                yield from read_path(str(path), readers, explicit=True)
            except READ_ERRORS as exc:  # the other inputs are still read
                yield Skip(str(path), f"unreadable: {_why(exc)}")
