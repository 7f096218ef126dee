"""The one place for text keys: folding (case and accents), words and numbers.

Each stage compares text through these, and each key must stay what it is (stored keys, tuned
thresholds), so where callers need different things there are different, named functions:

* :func:`fold` / :func:`fold_text`: lowercase, accents off, ``’`` → ``'``. Terms, capitalised
  names, keyphrases. :func:`fold` is cached (words and phrases recur); :func:`fold_text` is
  the same function uncached, for whole texts.
* :func:`fold_name`: gazetteer and entity keys. Accents off on alphabetic scripts only
  (Japanese voicing marks stay), every apostrophe and dash unified, ``ß`` → ``ss``, spaces
  squeezed.
* :func:`phrase_key`: a phrase's comparison key: lowercase, accents off, every run of
  non-word characters one space.

Words: :func:`words` (letter words, hyphen- and apostrophe-joined), :func:`word_runs` (runs of
word characters, digits included) and :func:`word_count` (a sentence's length in words).
Numbers: :func:`numbers_in` (values: ``5,200`` = ``5.200`` = ``5200``, two digits or more) and
:func:`number_digits` (each number's digits, separators and decimal marks dropped).
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = [
    "fold",
    "fold_name",
    "fold_text",
    "number_digits",
    "numbers_in",
    "phrase_key",
    "strip_accents",
    "word_count",
    "word_runs",
    "words",
]

# --------------------------------------------------------------------------- folding


def clip(text: str, n: int) -> str:
    """``text`` with its whitespace collapsed, cut to ``n`` characters with an ellipsis.

    >>> clip("  Flood   closes the bridge ", 12)
    'Flood close…'
    """
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def strip_accents(text: str) -> str:
    """NFKD decomposition without its combining marks (case kept).

    >>> strip_accents("Irák ＆ Ｋöln")
    'Irak & Koln'
    """
    if text.isascii():  # (unchanged by NFKD, no combining marks: most text, at no cost)
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def fold_text(text: str) -> str:
    """Lowercase, strip accents and unify apostrophes to ``'``, for text of any length.

    >>> fold_text("Moustafa al-Kazimi")
    'moustafa al-kazimi'
    >>> fold_text("États-Unis, l’Irak")
    "etats-unis, l'irak"
    """
    return strip_accents(text).lower().replace("’", "'")


@functools.lru_cache(maxsize=1 << 16)  # called per word: the same words recur
def fold(text: str) -> str:
    """:func:`fold_text`, cached: for words and short phrases, which recur.

    >>> fold("Bagdád")
    'bagdad'
    """
    return fold_text(text)


@functools.lru_cache(maxsize=1 << 16)  # the same surfaces recur across articles
def fold_name(text: str) -> str:
    """The gazetteer's fold: lowercase, strip accents, unify apostrophes and dashes, squeeze
    spaces.

    Unlike :func:`fold`, accents come off alphabetic scripts only (marks after a character
    below U+0530; Japanese voicing marks are part of the letter), the result is NFC, ``‘`` and
    ``ʼ`` become ``'`` too, every dash becomes ``-`` and ``ß``, ``ð``, ``þ`` are spelled out.

    >>> fold_name("  Bagdád — l’Irak ")
    "bagdad - l'irak"
    """
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize(
        "NFC",
        "".join(
            ch
            for i, ch in enumerate(text)
            if not (unicodedata.combining(ch) and i and text[i - 1] < "\u0530")
        ),
    )
    text = text.replace("’", "'").replace("ʼ", "'").replace("‘", "'")
    text = re.sub(r"[‐-―−]", "-", text)
    return " ".join(text.lower().replace("ß", "ss").replace("ð", "d").replace("þ", "th").split())


@functools.lru_cache(maxsize=1 << 16)  # phrases recur across an event's members
def phrase_key(text: str) -> str:
    """Lowercase, strip accents, every run of non-word characters one space.

    Lowercases before decomposing (:func:`fold` decomposes first): the two differ only on rare
    characters, e.g. a Greek final sigma before a compatibility character, and this key is
    kept as it was.

    >>> phrase_key("  L’État, islamique! ")
    'l etat islamique'
    """
    return re.sub(r"\W+", " ", strip_accents(text.lower())).strip()


# --------------------------------------------------------------------------- words

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
_WORD_RUN = re.compile(r"\w+", re.UNICODE)
_COUNTED_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def is_word_char(c: str) -> bool:
    """What re's ``\\w`` matches: a letter, a digit (of any script) or ``_``."""
    return c.isalnum() or c == "_"


def has_word(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` with no word character right before or after it: what
    ``(?<!\\w)WORD(?!\\w)`` finds, without compiling a regex per word.

    >>> has_word("etats-unis deploient", "etats-unis"), has_word("lunes", "lune")
    (True, False)
    """
    n, end = len(word), len(text)
    i = text.find(word)
    while i >= 0:
        if (i == 0 or not is_word_char(text[i - 1])) and (i + n >= end or not is_word_char(text[i + n])):
            return True
        i = text.find(word, i + 1)
    return False


def words(text: str) -> list[str]:
    """Words of letters, joined by hyphens and apostrophes; digits and ``_`` split them.

    >>> words("Al-Kazimi's 2nd visit_x")
    ["Al-Kazimi's", 'nd', 'visit', 'x']
    """
    return _WORD.findall(text)


def word_runs(text: str) -> list[str]:
    """Runs of word characters (letters, digits, ``_``); everything else splits them.

    >>> word_runs("Al-Kazimi's 2nd visit_x")
    ['Al', 'Kazimi', 's', '2nd', 'visit_x']
    """
    return _WORD_RUN.findall(text)


def word_count(text: str) -> int:
    """Words starting with a letter (digits, ``'``, ``’`` and ``-`` may follow); for a text
    without any, one per three characters.

    A run of CJK characters is one word: the fallback applies to texts without letters.

    >>> word_count("Talks resumed on 11 June"), word_count("日本と米国が、会談した"), word_count("2020-06-11")
    (4, 2, 3)
    """
    return len(_COUNTED_WORD.findall(text)) or len(text) // 3


# --------------------------------------------------------------------------- numbers

_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[.,\s ]\d{3})+(?:[.,]\d+)?(?![\w])|\d+(?:[.,]\d+)?")
_LOOSE_NUMBER = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")

# Decimal digits of every script as ASCII (٥٠٠٠, ۵۰۰۰, ५०००: 5000), Arabic separators as , and .
_DIGITS = {
    c: str(unicodedata.decimal(chr(c)))
    for c in range(0x660, 0x10000)
    if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c), None) is not None
} | {0x66B: ".", 0x66C: ","}

# Scale characters written onto a number in Chinese, Japanese and Korean ("5千", "1万", "3억"):
# the number's value is read with its scale, so "10,000" in one language and "1万" in another
# are the same number. (Scale *words* after a number — "2 million", "5 mil", "2,5 Millionen" —
# are not read: the shipped pair scorer was fitted without them, and with it they cost the
# ECB+ dev figure 0.002 — see docs/scorer.md.)
_CJK_SCALES = {"千": 3, "万": 4, "萬": 4, "百万": 6, "千万": 7, "亿": 8, "億": 8, "천": 3, "만": 4, "억": 8}
_SCALE_AFTER = re.compile(
    r"\s?(?:" + "|".join(sorted(map(re.escape, _CJK_SCALES), key=len, reverse=True)) + r")"
)


_YEAR = re.compile(r"1[89]\d\d|20\d\d")  # a year is never scaled


def _scaled(value: str, scale: str) -> str:
    """``value`` (dot as decimal mark) times the scale ``scale``, as digits."""
    exp = _CJK_SCALES.get(scale.strip())
    if not exp:
        return value
    whole, _, frac = value.partition(".")
    frac = frac[:exp]
    return str(int(whole + frac + "0" * (exp - len(frac))))


def numbers_in(text: str) -> set[str]:
    """Numbers mentioned in a text, normalised (``5,200``/``5.200``/``5 200`` → ``5200``).

    Single digits are left out: they are too common to tell events apart.

    Digits of other scripts count as their values, and a CJK scale character after a number
    is read with it (``5,000`` = ``5千`` = ``٥٠٠٠`` = ``5000``).

    >>> sorted(numbers_in("5,200 soldiers in 2020, 3 rockets and 5.200 troops; 58-3 record"))
    ['2020', '5200', '58']
    >>> sorted(numbers_in("2.5万人, 1万人, ١١٬٣٠٠"))
    ['10000', '11300', '25000']
    """
    out: set[str] = set()
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS)
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        digits = re.sub(r"[.,\s ]", "", raw) if re.search(r"\d[.,\s ]\d{3}\b", raw) else raw
        digits = digits.replace(",", ".")
        digits = digits.removesuffix(".0")
        scale = _SCALE_AFTER.match(text, m.end())
        if scale and digits.count(".") <= 1 and not _YEAR.fullmatch(digits):
            digits = _scaled(digits, scale.group(0))
        if len(digits.replace(".", "")) >= 2:
            out.add(digits)
    return out


def number_digits(text: str) -> set[str]:
    """The digits of each number in a text (NFKC), thousands separators and decimal marks
    dropped; single digits kept.

    >>> sorted(number_digits("5,200 soldiers, 3 rockets, 2.5 km"))
    ['25', '3', '5200']
    """
    text = unicodedata.normalize("NFKC", text)
    return {re.sub(r"\D", "", n) for n in _LOOSE_NUMBER.findall(text)}
