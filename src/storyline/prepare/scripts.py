"""Places named in scripts the capitalised-span heuristic of :mod:`.entities` cannot read.

Scripts without capital letters (Arabic, Hebrew, Persian, the Indic scripts, Georgian, Hangul
...) and scripts written without spaces (Japanese, Chinese, Thai, Lao, Khmer, Myanmar) have
their words looked up in the gazetteer instead: countries, cities and organisations, with the
same keys as in every other language (ليبيا, लीबिया, リビア and Libya are ``country:LY``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping

from ..text import fold_name
from .gazetteer import city_country, gazetteer, org_table

__all__ = ["script_places"]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")

# Scripts without capital letters, where the capitalised-span heuristic finds nothing: Arabic,
# Hebrew, Syriac, Thaana, the Indic scripts, Thai, Lao, Tibetan, Myanmar, Georgian, Ethiopic,
# Khmer, Hangul. Their words are looked up in the gazetteer instead (places, countries, orgs).
_CASELESS = re.compile(
    r"[\u0590-\u07bf\u0900-\u0dff\u0e00-\u0fff\u1000-\u109f\u10d0-\u10ff\u1200-\u137f"
    r"\u1780-\u17ff\uac00-\ud7af]"
)
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")  # Thai, Lao, Myanmar, Khmer
_WORD_BREAK = re.compile(r"[\s.,;:!?\"'()\[\]{}«»“”„‘’،؛؟।॥·/\\|\-–—_*#@&%+=<>~^]+")
# one-letter proclitics written onto the next word: Arabic wa/fa/bi/li/ka, Hebrew ve/ha/be/le/mi/she/ke
_PROCLITICS = ("و", "ف", "ب", "ل", "ك", "ו", "ה", "ב", "ל", "מ", "ש", "כ")
_SEMITIC = re.compile(r"[\u0590-\u07bf]")  # words that take proclitics, not endings
_MAX_WORDS = 3


def _caseless_lookup(word: str, table: Mapping[str, str]) -> str | None:
    """The key of one word of a caseless script: as written, without a proclitic or two (بالعراق,
    וישראל), or (an attached case ending or particle: லிபியாவில், 리비아에서) its longest
    listed beginning that leaves at most four characters."""
    hit = table.get(word)
    if _SEMITIC.search(word):
        stem = word
        for _ in range(2):
            if hit or len(stem) < 4 or not stem.startswith(_PROCLITICS):
                break
            stem = stem[1:]
            hit = table.get(stem) or (table.get("ال" + stem[1:]) if stem.startswith("ل") else None)
    elif hit is None and len(word) >= 4:
        for cut in range(1, min(4, len(word) - 3) + 1):
            if hit := table.get(word[:-cut]):
                break
    return hit


def _in_context(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Matches whose cities are confirmed by their country named in the same text. In a
    caseless script a city's alias is often an ordinary word (المدينة "the city", الصور "the
    pictures", الوادي "the valley"): a city counts only beside its country."""
    countries = {k for _, k in found if k.startswith("country:")}
    where = city_country()
    return [e for e in found if not e[1].startswith("city:") or where.get(e[1]) in countries]


Lookup = tuple[dict[str, str], dict[str, tuple[int, ...]]]


def _lookup(table: dict[str, str]) -> Lookup:
    """``table`` and, by first character, the lengths of its names (longest first): a scan
    tries only lengths some name has (one Thai alias of Bangkok is 144 characters long)."""
    lengths: dict[str, set[int]] = {}
    for alias in table:
        lengths.setdefault(alias[0], set()).add(len(alias))
    return table, {c: tuple(sorted(v, reverse=True)) for c, v in lengths.items()}


@functools.lru_cache(maxsize=2)
def _caseless_table(unspaced: bool = False) -> Lookup:
    """Aliases written in a caseless script (``unspaced``: in Thai, Lao, Myanmar or Khmer, the
    scripts scanned by longest match)."""
    script = _UNSPACED if unspaced else _CASELESS
    return _lookup({a: k for a, k in {**gazetteer(), **org_table()}.items() if script.search(a)})


def _caseless_gazetteer(text: str, known: Mapping[str, str]) -> list[tuple[str, str]]:
    """Places, countries and organisations named in a caseless script, by gazetteer lookup of
    each run of up to three words (longest first); unspaced scripts (Thai, Lao, Myanmar,
    Khmer) by longest match, as Japanese and Chinese are."""
    if _UNSPACED.search(text):
        return _in_context(_longest_match(unicodedata.normalize("NFC", text), _caseless_table(True), 3, known))
    table = _caseless_table()[0]
    words = [w for w in _WORD_BREAK.split(fold_name(text)) if w]
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        if not _CASELESS.search(words[i]):
            i += 1
            continue
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + n])
            hit = known.get(phrase) or (table.get(phrase) if n > 1 else _caseless_lookup(phrase, table))
            if hit:
                out.append((phrase, hit))
                i += n
                break
        else:
            i += 1
    return _in_context(out)


@functools.lru_cache(maxsize=1)
def _cjk_table() -> Lookup:
    return _lookup({a: k for a, k in {**gazetteer(), **org_table()}.items() if _CJK.match(a)})


def _cjk_gazetteer(text: str, known: Mapping[str, str]) -> list[tuple[str, str]]:
    """Longest-match dictionary scan for scripts written without spaces (ja, zh)."""
    return _longest_match(unicodedata.normalize("NFC", text), _cjk_table(), 2, known)


def _longest_match(
    text: str, lookup: Lookup, shortest: int, known: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Dictionary scan of a text written without spaces: at each position the longest
    listed name (at least ``shortest`` characters); ``known`` aliases first."""
    table, lengths = lookup
    extra = _lookup(dict(known))[1] if known else {}  # (a few aliases: the table is not rebuilt)
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        tried = lengths.get(text[i], ())
        if extra:
            tried = tuple(sorted({*tried, *extra.get(text[i], ())}, reverse=True))
        if not tried:
            i += 1
            continue
        for length in tried:
            if length < shortest or length > n - i:
                continue
            sub = text[i : i + length]
            hit = known.get(sub) or table.get(sub)
            if hit:
                out.append((sub, hit))
                i += length
                break
        else:
            i += 1
    return out


def script_places(text: str, known: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(surface, key)`` of the places and organisations ``text`` names in Japanese or
    Chinese characters and in caseless scripts (``known``: an alias map consulted first)."""
    out: list[tuple[str, str]] = []
    if _CJK.search(text):
        out += _cjk_gazetteer(text, known)
    if _CASELESS.search(text):
        out += _caseless_gazetteer(text, known)
    return out
