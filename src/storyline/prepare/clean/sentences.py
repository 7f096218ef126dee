"""Sentence splitting (pure regex, fast) and the title heuristic."""

from __future__ import annotations

import re

__all__ = ["looks_like_title", "split_sentences"]

# Tokens ending in "." that do not end a sentence (lower-cased, without the final dot).
_ABBREV = frozenset(
    """
    mr mrs ms dr prof sr jr st gen col lt sgt capt cmdr adm gov sen rep rev hon pres
    inc ltd co corp dept univ est approx vs etc al fig no nos vol p pp cf ca jan feb mar apr
    jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun e.g i.e u.s u.k u.n a.m p.m
    mme mlle mm me dr pr av bd env cf ex vol hr fr frau nr str bzw usw z.b d.h ggf ca
    sra srta ud uds dña pág sig dott sig.ra ing avv on
    """.split()  # noqa: SIM905
)
_WORD_BEFORE = re.compile(r"(\S+)$")
# Candidate boundary: terminal punctuation (+ closing quotes/brackets), whitespace, then a
# likely sentence start (upper-case letter, digit, opening quote, dash or non-Latin letter).
_BOUNDARY = re.compile(
    r"""([.!?…]+(?:[ \u00a0\u202f]?»)?["'”’»)\]]*)\s+(?=[«"“'‘(\[¿¡—–-]?\s?[A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁΑ-Ω0-9\u0590-\u08ff\u0900-\u0dff])"""
)
_CJK_BOUNDARY = re.compile(r"([。！？!?]+[」』”）)]*)")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_MIN_SPLIT_LEN = 40  # lines shorter than this are one sentence


def _is_abbreviation(head: str) -> bool:
    m = _WORD_BEFORE.search(head)
    if not m:
        return False
    word = m.group(1).lstrip("«\"“'‘([").rstrip(".").lower()
    if not word:
        return False
    if word in _ABBREV:
        return True
    if len(word) == 1 and word.isalpha():  # initials: "J. Smith", "M. Macron"
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]?", word))  # "u.s", "e.g"


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    if _CJK_BOUNDARY.search(line) and _CJK.search(line):
        parts = _CJK_BOUNDARY.split(line)
        buf = ""
        for i, part in enumerate(parts):
            buf += part
            if i % 2 == 1:
                pieces.append(buf)
                buf = ""
        if buf:
            pieces.append(buf)
        return [p.strip() for p in pieces if p.strip()]
    if len(line) < _MIN_SPLIT_LEN:
        return [line]
    start = 0
    for m in _BOUNDARY.finditer(line):
        end = m.end(1)
        head = line[start : m.start(1)]
        if m.group(1).startswith(".") and len(m.group(1)) == 1 and _is_abbreviation(head):
            continue
        pieces.append(line[start:end])
        start = m.end()
    pieces.append(line[start:])
    return [p.strip() for p in pieces if p.strip()]


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """Split into sentences: lines first, then sentence boundaries inside long lines.

    >>> split_sentences("Mr. Smith went to the U.S. Army base. It was 5.200 km away!\\nNext line")
    ['Mr. Smith went to the U.S. Army base.', 'It was 5.200 km away!', 'Next line']
    >>> split_sentences("東京は晴れ。大阪は雨でした。明日も雨の予報です。あさっては晴れでしょう。")
    ['東京は晴れ。', '大阪は雨でした。', '明日も雨の予報です。', 'あさっては晴れでしょう。']
    """
    del lang
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            out.extend(_split_line(line))
    return out


_TITLE_MAX_WORDS = 20
_TITLE_MAX_CHARS = 200


def looks_like_title(line: str) -> bool:
    """Whether a line reads as a headline: short, no final period, has letters.

    >>> looks_like_title("Après les tensions avec l’iran, les USA vont réduire leurs troupes en Irak")
    True
    >>> looks_like_title("The man has taken the reins of a country in crisis.")
    False
    >>> looks_like_title("With AFP")
    True
    """
    s = line.strip()
    if not s or len(s) > _TITLE_MAX_CHARS:
        return False
    if len(s.split()) > _TITLE_MAX_WORDS:
        return False
    if not any(ch.isalpha() for ch in s):
        return False
    if s.endswith((".", ",", ";", ":")) and not s.endswith("..."):
        return False
    return not s.endswith("。")
