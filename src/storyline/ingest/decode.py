"""Bytes to text: BOM-aware UTF-8/UTF-16, cp1252/latin-1 fallbacks, binary detection."""

from __future__ import annotations

import codecs
import logging

logger = logging.getLogger(__name__)

__all__ = ["MAX_TEXT_CHARS", "BinaryContent", "cap_text", "decode_bytes", "looks_binary"]

#: Article text longer than this is truncated (with a warning) when read.
MAX_TEXT_CHARS = 200_000

_SNIFF = 8192


class BinaryContent(ValueError):
    """The bytes are not text."""


def looks_binary(head: bytes) -> bool:
    """NUL bytes (outside UTF-16) or many control bytes in the first few KB."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    sample = head[:_SNIFF]
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    ctrl = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return ctrl / len(sample) > 0.1


def decode_bytes(data: bytes, origin: str = "") -> str:
    """Decode input bytes: UTF-8 (BOM optional), UTF-16 with BOM, else cp1252, else latin-1.

    Raises :class:`BinaryContent` when the bytes look binary.

    >>> decode_bytes("café".encode("cp1252"))
    'café'
    >>> decode_bytes(codecs.BOM_UTF16_LE + "été".encode("utf-16-le"))
    'été'
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if looks_binary(data):
        raise BinaryContent("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        logger.info("%s: not UTF-8, decoded as cp1252", origin or "input")
        return text
    except UnicodeDecodeError:
        logger.info("%s: not UTF-8, decoded as latin-1", origin or "input")
        return data.decode("latin-1")


def cap_text(text: str, origin: str = "") -> str:
    """Truncate text to :data:`MAX_TEXT_CHARS` characters, with a warning."""
    if len(text) > MAX_TEXT_CHARS:
        logger.warning(
            "%s: text has %d characters; truncated to %d", origin, len(text), MAX_TEXT_CHARS
        )
        return text[:MAX_TEXT_CHARS]
    return text
