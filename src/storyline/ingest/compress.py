"""Compressed inputs: ``.gz``, ``.bz2``, ``.xz`` files (and streams) read as they decompress.

A reader looks at the name without the compression suffix (``news.jsonl.gz`` is JSON Lines)
and opens the file with :func:`open_input`, which recognises the format by its magic bytes.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from typing import IO

__all__ = ["COMPRESSED", "decompressing", "inner_name", "open_input"]

COMPRESSED = (".gz", ".bz2", ".xz")
_MAGIC = (
    (b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    (b"BZh", lambda f: bz2.BZ2File(f, "rb")),
    (b"\xfd7zXZ\x00", lambda f: lzma.LZMAFile(f, "rb")),  # noqa: SIM115 - the caller closes it
)


def inner_name(path: str) -> str:
    """The name without its compression suffix: ``a.jsonl.gz`` → ``a.jsonl``."""
    low = path.lower()
    for suffix in COMPRESSED:
        if low.endswith(suffix):
            return path[: -len(suffix)]
    return path


def decompressing(raw: IO[bytes]) -> IO[bytes]:
    """``raw`` (buffered, so its head can be peeked), decompressed when it starts with the
    magic bytes of gzip, bzip2 or xz."""
    buf = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = buf.peek(8)[:8]
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return io.BufferedReader(opener(buf))  # type: ignore[arg-type]
    return buf


def open_input(path: str) -> IO[bytes]:
    """A file opened for reading bytes, decompressed on the fly when it is compressed."""
    return decompressing(open(path, "rb"))
