"""A headline-like span from a sentence: what an untitled article's lead says, in at most
~90 characters, cut where a clause ends rather than in the middle of a phrase.

Nothing is generated or reordered: the span is a prefix of the sentence with asides removed
(parentheses, a leading dateline, a trailing "…, officials said"), so it stays in the
language and the words of the article it came from.
"""

from __future__ import annotations

import re

__all__ = ["HEADLINE_LIMIT", "short_headline"]


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


HEADLINE_LIMIT = 90

_PAREN = re.compile(r"\s*[(（\[][^()（）\[\]]{0,60}[)）\]]")
# a place and its source ("Paris (AFP) - ", "エルサレム（ロイター通信） - ") or an agency alone:
# gone from every headline; a place in capitals alone ("PARIS - ") only from long sentences,
# as "NATO - Russia council meets" is a title
_SOURCE_DATELINE = re.compile(
    r"^\s*(?:[^\W\d_][\w.'’ -]{1,30}\s*[(（][^)）]{1,20}[)）]\s*[-–—:]\s+|"
    r"\(?(?:AFP|AP|Reuters|dpa|EFE|ANSA|AA)\)?\s*[-–—:]\s+)"
)
_DATELINE = re.compile(r"^\s*[A-ZÀ-Þ][A-ZÀ-Þ.'’ -]{1,30}\s*(?:\([^)]{1,20}\)\s*)?[-–—]\s+")
# Words that open a subordinate part of a sentence: a headline can end before them.
_BREAK_WORDS = {
    "en": "after before while as because amid with which who whom where when since following "
    "despite according saying including than whereas although though until and",
    "fr": "après avant alors pour avec selon dont qui lorsque tandis afin malgré depuis entre "
    "puisque car mais et",
    "de": "nachdem weil während nach mit um laut als obwohl seit sowie wobei bevor und",
    "es": "tras después antes para con según mientras donde entre aunque porque cuando desde y",
    "it": "dopo prima per con secondo mentre dove tra perché quando e",
    "pt": "após depois antes para com segundo enquanto onde entre porque quando e",
    "nl": "na voor met volgens terwijl waar omdat toen",
    "tr": "ardından sonra önce için ile göre",
    "ar": "بعد قبل مع حيث بينما وفق وفقا لأن عندما",
    "ru": "после перед для чтобы когда поскольку после",
    "uk": "після перед для щоб коли оскільки",
    "el": "μετά πριν για ενώ όταν σύμφωνα",
}
_BREAKS = {k: frozenset(v.split()) for k, v in _BREAK_WORDS.items()}
_ALL_BREAKS = frozenset().union(*_BREAKS.values())
# Words a headline should not end on (articles, prepositions, conjunctions, auxiliaries).
_DANGLING = _set(
    "a an the of to in on at by for and or but with from as is are was were be has have had "
    "will would that this its their his her le la les l un une des du de d et ou à au aux en "
    "dans par sur est sont a ont qui que der die das den dem des ein eine und oder in im zu "
    "von mit ist sind hat el la los las un una y o de del al en con por para es son ha que "
    "il lo gli di e del per"
)
_CUT_PUNCT = re.compile(r"\s*(?:[,;:，、；：،؛]|\s[-–—]\s)\s*")
_CONNECTIVE = re.compile(
    r"^(?:however|but|meanwhile|moreover|also|yet|cependant|mais|toutefois|en effet|"
    r"par ailleurs|or|aber|jedoch|allerdings|sin embargo|pero|además|tuttavia|però)\b[,\s]*",
    re.IGNORECASE,
)
# When a happening took place ("late on Sunday", "ce jeudi", "am Montag"): a headline leaves it out.
_DAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|"
    r"vendredi|samedi|dimanche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
    r"lunes|martes|miércoles|jueves|viernes|sábado|domingo"
)
_WHEN = re.compile(
    r"\s(?:(?:late|early)\s)?(?:on|last|this|tard|tôt|ce|am|el)?\s?(?:" + _DAYS + r")"
    r"(?:\s(?:night|morning|evening|afternoon|soir|matin|abend|morgen|noche|mañana))?\b",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_QUOTES = (("«", "»"), ("“", "”"), ("„", "“"), ("‹", "›"), ("「", "」"))
_WORD = re.compile(r"\S+")


def _balance_quotes(text: str) -> str:
    """Drop quote marks left open or unopened by a cut (``« parraine le lancement`` →
    ``parraine le lancement``)."""
    german = "„" in text and text.count("„") == text.count("“")  # „…“ pairs with “
    for left, right in _QUOTES:
        if german and (left, right) == ("“", "”"):
            continue
        if text.count(left) != text.count(right):
            text = text.replace(left, "").replace(right, "")
    if text.count('"') % 2:
        text = text.replace('"', "")
    return re.sub(r"\s{2,}", " ", text).strip()


def _tidy(text: str) -> str:
    text = _balance_quotes(text)
    return text.strip(" ,;:-–—·").rstrip(".。!！").strip()


def _ends_well(words: list[str]) -> bool:
    last = words[-1].strip("\"'«»“”„()").lower() if words else ""
    return bool(last) and last not in _DANGLING


def short_headline(sentence: str, lang: str | None = None, limit: int = HEADLINE_LIMIT) -> str:
    """A headline-like span of ``sentence`` of about ``limit`` characters at most (6% more
    when that ends a clause; half as many CJK characters).

    A leading dateline with its source ("PARIS (AFP) - ") goes. A sentence that then fits is
    kept as written (its final full stop dropped). In a longer one, a leading place in
    capitals ("PARIS - "), parenthetical asides, days ("on Thursday") and connectives
    ("However,")
    go, then it is cut before the latest clause boundary (a comma, a dash, a colon, or a word
    such as *after*, *and*, *après*, *nachdem*, *tras*) that leaves a span of at least four
    words which does not end on a function word; when there is none, at the last word that
    fits, with an ellipsis.

    >>> short_headline('The United States announced on Thursday (June 11th) that it will '
    ...   '"reduce" its military presence in Iraq after resuming talks with the Iraqi government.')
    'The United States announced that it will "reduce" its military presence in Iraq'
    >>> short_headline("Un séisme a frappé le Maroc.")
    'Un séisme a frappé le Maroc'
    """
    text = " ".join(sentence.split())
    text = _SOURCE_DATELINE.sub("", text, count=1) or text  # "PARIS (AFP) - " says nothing
    if len(text) <= limit and not _CJK.search(text):
        return _tidy(text)  # fits: kept as written
    text = _DATELINE.sub("", text, count=1)
    text = _PAREN.sub("", text).strip()
    text = _WHEN.sub("", text)
    rest = _CONNECTIVE.sub("", text, count=1)
    if rest != text and rest:
        text = rest[0].upper() + rest[1:]
    cjk = len(_CJK.findall(text)) > len(text) / 3
    if cjk:
        limit = max(10, limit // 2)  # a CJK character carries about two Latin ones
    if len(_tidy(text)) <= limit:
        return _tidy(text)
    breaks = _BREAKS.get(lang or "", frozenset()) | (_ALL_BREAKS if not lang else frozenset())
    cuts: list[int] = [m.start() for m in _CUT_PUNCT.finditer(text)]
    for m in _WORD.finditer(text):
        if m.group(0).lower().strip("\"'«»“”,") in breaks and m.start() > 0:
            cuts.append(m.start())
    best = ""
    soft = int(limit * 1.06)  # a clause that ends a few characters late beats an ellipsis
    for cut in sorted(set(cuts)):
        span = _tidy(text[:cut])
        words = span.split()
        if len(span) > soft:
            break
        if (len(words) >= 4 or (cjk and len(span) >= 8)) and _ends_well(words):
            best = span
    if best:
        return best
    words = text.split()
    out: list[str] = []
    for w in words:
        if len(" ".join([*out, w])) > limit - 1:
            break
        out.append(w)
    while len(out) > 1 and not _ends_well(out):
        out.pop()
    if not out:  # one giant token (CJK without punctuation): cut by characters
        return text[: limit - 1].rstrip() + "…"
    return _tidy(" ".join(out)) + "…"
