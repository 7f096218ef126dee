"""Bytes to text: BOM-aware UTF-8/UTF-16, cp1252/latin-1 fallbacks, binary detection."""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_TEXT_CHARS",
    "BinaryContent",
    "cap_text",
    "decode_bytes",
    "decode_line",
    "looks_binary",
    "sniff_utf16",
]

#: Article text longer than this is truncated (with a warning) when read.
MAX_TEXT_CHARS = 200_000

_SNIFF = 8192


class BinaryContent(ValueError):
    """The bytes are not text."""


def sniff_utf16(head: bytes) -> str | None:
    """``"utf-16-le"`` / ``"utf-16-be"`` for UTF-16 text without a BOM (mostly ASCII-range
    characters: every other byte is NUL), else None."""
    sample = head[:_SNIFF - _SNIFF % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.6 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


# encodings tried, in order, for bytes that are not UTF-8 (per file, or per line)
_LEGACY = ("gb18030", "shift_jis", "euc-kr", "big5", "cp1251", "cp1252")
_BY_LANG = {"zh": ("gb18030", "big5"), "ja": ("shift_jis", "euc-jp"), "ko": ("euc-kr",),
            "ru": ("cp1251",), "uk": ("cp1251",), "bg": ("cp1251",), "sr": ("cp1251",)}  # fmt: skip
_COMMON = re.compile(
    "[\\x20-\\x7e\\s\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0600-\u06ff\u2010-\u206f"
    "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff01-\uff5e]"
)
_LATIN_CJK = re.compile(  # a Latin letter glued to a CJK or Cyrillic one
    "[A-Za-z\u00c0-\u024f][\u0400-\u04ff\u3400-\u9fff\uac00-\ud7af]"
    "|[\u0400-\u04ff\u3400-\u9fff\uac00-\ud7af][A-Za-z\u00c0-\u024f]"
)
_SCRIPT_OF = {"shift_jis": re.compile("[\u3040-\u30ff]"), "euc-kr": re.compile("[\uac00-\ud7af]"),
              "cp1251": re.compile("[\u0400-\u04ff]")}  # fmt: skip


def _score(text: str, enc: str) -> float:
    """How plausible a decoding is: the share of characters from common scripts, less the
    Latin letters glued to CJK characters (mojibake of Latin-1), plus the share of kana,
    hangul or Cyrillic for the encodings of those scripts."""
    if not text:
        return 1.0
    n = len(text)
    common = len(_COMMON.findall(text)) / n
    score = common - 2 * len(_LATIN_CJK.findall(text)) / n
    if enc in _SCRIPT_OF and common > 0.98:  # the script's bonus only for a clean decoding
        score += 0.3 * len(_SCRIPT_OF[enc].findall(text)) / n
    if enc == "euc-kr":  # Korean news is written in hangul: hanja among it is mojibake
        score -= len(_HANZI.findall(text)) / n
    return score


_HANZI = re.compile("[\u4e00-\u9fff]")
_LANG_FIELD = re.compile(rb'"lang(?:uage)?"\s*:\s*"([A-Za-z]{2,3})')


def decode_line(raw: bytes, lang: str | None = None) -> tuple[str, str]:
    """One line (or one document) of unknown encoding: ``(text, encoding)``. UTF-8 first;
    then the encodings of ``lang`` (or of a JSON ``"lang"`` field in the bytes); then the
    legacy encoding that decodes the bytes strictly into the most plausible text.

    >>> decode_line("北京举行了会议，数千人参加。".encode("gb18030"))
    ('北京举行了会议，数千人参加。', 'gb18030')
    >>> decode_line("東京で大きな地震があった".encode("shift_jis"))
    ('東京で大きな地震があった', 'shift_jis')
    >>> decode_line('{"lang": "ru", "text": "Москва"}'.encode("cp1251"))[1]
    'cp1251'
    """
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if lang is None and (m := _LANG_FIELD.search(raw[:4096])):
        lang = m.group(1).decode("ascii").lower()
    for enc in _BY_LANG.get((lang or "")[:2], ()):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    best: tuple[float, str, str] | None = None
    for enc in _LEGACY:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _score(text, enc)
        if best is None or score > best[0] + 1e-9:
            best = (score, text, enc)
    if best is None:
        return raw.decode("cp1252", errors="replace"), "cp1252"
    return best[1], best[2]


def looks_binary(head: bytes) -> bool:
    """NUL bytes (outside UTF-16) or many control bytes in the first few KB."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or sniff_utf16(head):
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
    utf16 = sniff_utf16(data)
    if utf16:
        logger.info("%s: UTF-16 without a byte order mark (%s)", origin or "input", utf16)
        return data.decode(utf16, errors="replace")
    if looks_binary(data):
        raise BinaryContent("binary file")
    text, enc = decode_line(data)
    if enc != "utf-8":
        logger.info("%s: not UTF-8, decoded as %s", origin or "input", enc)
    return text


def cap_text(text: str, origin: str = "") -> str:
    """Truncate text to :data:`MAX_TEXT_CHARS` characters, with a warning."""
    if len(text) > MAX_TEXT_CHARS:
        logger.warning(
            "%s: text has %d characters; truncated to %d", origin, len(text), MAX_TEXT_CHARS
        )
        return text[:MAX_TEXT_CHARS]
    return text
