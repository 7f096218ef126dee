"""The entities an event shows: type-checked, one canonical name per entity, aliases across
languages and transliterations merged, named in the display language when it is known.

The keys extracted per article (:mod:`storyline.prepare.entities`) stay as they are: the
clusterer and the story linker compare them. This module only decides what a reader sees:

* a ``per:`` entity whose surface is a common noun phrase ("Beben der Stärke", "Bord der
  Fähre", in German a noun such as "Tausende Tote"), holds a number ("Chandrayaan-3"), is a place of the gazetteer, or is used after an
  article in the text ("la Lune", "the Pentagon") is not shown as a person: a place gets its
  place key, anything else is left out;
* two ``per:`` keys whose names are spelling or transliteration variants of one another
  ("Osman Abdulcelil" / "Othman Abduljaleel") are one entity (rapidfuzz on transliterated
  skeletons of the surname, the first names checked too);
* in an event of three articles or more, an entity only one article names is not shown; in
  an event in several languages, neither is a one-word name given in one language only;
* the name shown is a surface written by a member in the display language (for a country,
  not an adjective such as "Moroccan"); else, for a country, its name in that language
  (pycountry's translations, short English forms); else the most used surface.
"""

from __future__ import annotations

import functools
import gettext
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..model import Processed
from ..prepare.entities import NOUN_CAPS, german_noun
from ..text import fold_name, is_word_char, strip_accents

__all__ = ["EntityView", "checked_keys", "country_name", "display_entities", "transliterate"]


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_PARTICLES = _set(
    "al el ad an as ar az ash at bin ibn ben abu bint de du da di del della des dos das von "
    "van der den la le ter y e"
)
_DETERMINERS = _set(
    "the a an le la les l un une des du au aux der die das den dem des ein eine einen el los "
    "las il lo gli i una uno o os as het de een his her its their our son sa ses leur leurs "
    "sein seine ihr ihre su sus"
)
_TRANSLIT = {
    # Turkish, Azeri, Balkan and other Latin spellings of one Arabic/Slavic sound
    "ç": "ch", "ş": "sh", "ğ": "", "ı": "i", "c": "j", "x": "ks", "ž": "zh", "š": "sh", "č": "ch",
    # Cyrillic
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "i",
    "є": "ye", "ґ": "g",
    # Greek
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "ks", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "i", "φ": "f", "χ": "kh", "ψ": "ps", "ω": "o",
}  # fmt: skip
_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=1 << 16)  # compared pairwise: the same names again and again
def transliterate(name: str) -> str:
    """A Latin, spelling-tolerant form of a name for comparing variants: lowercase, Turkish,
    Cyrillic and Greek letters spelled out, accents off, sounds written several ways unified.

    >>> transliterate("Osman Abdulcelil"), transliterate("Othman Abduljaleel")
    ('osman abduljelil', 'osman abduljalil')
    >>> transliterate("Владимир Путин")
    'vladimir putin'
    """
    low = name.lower()
    low = "".join(_TRANSLIT.get(ch, ch) for ch in low)
    low = strip_accents(low)
    low = re.sub(r"[^a-z ]", "", low.replace("-", " "))
    for a, b in (("th", "s"), ("dh", "z"), ("kh", "k"), ("ph", "f"), ("ou", "u"), ("oo", "u"),
                 ("ee", "i"), ("q", "k"), ("ck", "k"), ("y", "i"), ("w", "v"), ("dj", "j")):  # fmt: skip
        low = low.replace(a, b)
    low = re.sub(r"(.)\1+", r"\1", low)
    return " ".join(low.split())


# Titles and functions written before a name, in the languages of the gazetteer's translations
_TITLE_WORDS = _set(
    "president prime minister secretary chancellor king queen general premier ministre chef "
    "health minister foreign interior defence defense senator governor pope mr mrs ms dr sir "
    "präsident bundeskanzler premierminister ministerpräsident könig kanzler minister "
    "presidente ministro rey primer sağlık bakanı cumhurbaşkanı başbakan dışişleri içişleri "
    "rover sonde insel provinz sturmtief"
)


def strip_titles(surface: str) -> str:
    """``surface`` without the titles written before a name ("Sağlık Bakanı Osman Abdulcelil"
    → "Osman Abdulcelil"); one word at least is kept.

    >>> strip_titles("Sağlık Bakanı Osman Abdulcelil"), strip_titles("Prime Minister")
    ('Osman Abdulcelil', 'Minister')
    """
    words = surface.split()
    while len(words) > 1 and words[0].lower() in _TITLE_WORDS:
        words.pop(0)
    return " ".join(words)


def _name_tokens(surface: str) -> list[str]:
    return [t for t in transliterate(surface).split() if t not in _PARTICLES]


def same_person(a: str, b: str, threshold: float = 85.0) -> bool:
    """Whether two person names are variants of one name: surnames (last tokens) similar
    above ``threshold`` after :func:`transliterate`, and first names, when both have one,
    similar above 70.

    >>> same_person("Osman Abdulcelil", "Othman Abduljaleel"), same_person("Ali Khan", "Ali Kahn")
    (True, True)
    >>> same_person("Robert Ford", "Gerald Ford")
    False
    """
    from rapidfuzz import fuzz

    ta, tb = _name_tokens(strip_titles(a)), _name_tokens(strip_titles(b))
    if not ta or not tb:
        return False
    if fuzz.ratio(ta[-1], tb[-1]) < threshold:
        return False
    if len(ta) > 1 and len(tb) > 1:  # the given names, just before the surnames
        return fuzz.ratio(ta[-2], tb[-2]) >= 70.0
    return True


@functools.lru_cache(maxsize=64)
def _country_translator(lang: str) -> gettext.NullTranslations:
    import pycountry

    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [lang])
    except OSError:
        return gettext.NullTranslations()


# English names in the news for countries whose ISO name is formal ("Syrian Arab Republic")
_SHORT_EN = {
    "SY": "Syria", "TR": "Turkey", "RU": "Russia", "IR": "Iran", "KR": "South Korea",
    "KP": "North Korea", "VN": "Vietnam", "LA": "Laos", "BO": "Bolivia", "VE": "Venezuela",
    "TZ": "Tanzania", "MD": "Moldova", "PS": "Palestine", "TW": "Taiwan", "CD": "DR Congo",
    "CG": "Congo", "CZ": "Czech Republic", "FM": "Micronesia", "VA": "Vatican",
    "BN": "Brunei", "CV": "Cape Verde", "SZ": "Eswatini", "MK": "North Macedonia",
}  # fmt: skip


def country_name(key: str, lang: str | None) -> str | None:
    """The usual name of the country of a ``country:XX`` key in ``lang`` (English when the
    language has no translation); None for another key.

    >>> country_name("country:MA", "fr"), country_name("country:US", "en")
    ('Maroc', 'United States')
    >>> country_name("country:SY", "en"), country_name("country:DE", "es")
    ('Syria', 'Alemania')
    """
    if not key.startswith("country:"):
        return None
    import pycountry

    c = pycountry.countries.get(alpha_2=key.split(":", 1)[1])
    if c is None:
        return None
    english = getattr(c, "common_name", None) or c.name
    if (lang or "en") == "en":
        return _SHORT_EN.get(c.alpha_2) or re.split(r",| \(", english)[0].strip()
    name = _country_translator(lang or "en").gettext(english)
    if name == english and english != c.name:
        name = _country_translator(lang or "en").gettext(c.name)
    return re.split(r",| \(", name)[0].strip() or english


def _is_place(surface: str) -> str | None:
    from ..prepare.gazetteer import gazetteer

    return gazetteer().get(fold_name(surface))


def _words_before(surface: str, text: str) -> list[str]:
    """The words right before each use of ``surface`` in ``text`` ("the Pentagon",
    "l'Élysée"; not followed by a letter): what ``(\\w+)['’ ]\\s*SURFACE(?!\\w)`` finds, found
    from the surface backwards (a regex that starts with ``\\w+`` tries every letter of the
    text)."""
    out: list[str] = []
    n, last, start = len(surface), 0, 0
    while (i := text.find(surface, start)) >= 0:
        start = i + 1
        if i + n < len(text) and is_word_char(text[i + n]):
            continue
        k = i
        while k > last and text[k - 1].isspace():
            k -= 1
        if k < i and text[k] == " " and k > last and is_word_char(text[k - 1]):
            end = k  # "the Pentagon": a space, then any whitespace
        elif k - 1 > last and text[k - 1] in "'’" and is_word_char(text[k - 2]):
            end = k - 1  # "l'Élysée", "l’ Élysée"
        else:
            continue
        begin = end
        while begin > last and is_word_char(text[begin - 1]):
            begin -= 1
        out.append(text[begin:end].lower())
        last = start = i + n
    return out


def _after_article(surface: str, texts: Sequence[str]) -> bool:
    """``surface`` is mostly used after an article ("la Lune", "the Pentagon"): a thing."""
    uses = [w for t in texts for w in _words_before(surface, t)]
    return bool(uses) and sum(u in _DETERMINERS for u in uses) * 2 > len(uses)


def _common_phrase(surface: str) -> bool:
    """A common noun phrase rather than a name: a lowercase word that is no name particle
    inside it, or a German article after a noun ("Beben der Stärke", but "von der Leyen").

    >>> _common_phrase("Beben der Stärke"), _common_phrase("Ursula von der Leyen")
    (True, False)
    """
    words = surface.replace("-", " ").split()
    for prev, w in itertools.pairwise(words):
        low = w.lower()
        if w[:1].islower() and low not in _PARTICLES:
            return True
        if low in ("der", "des", "dem") and prev.lower() not in ("von", "van", "zu", "ter"):
            return True
    return False


@dataclass
class EntityView:
    """One entity as shown: its key, label, how many members name it, surfaces by language."""

    key: str
    label: str
    members: set[str] = field(default_factory=set)
    surfaces: dict[str, Counter[str]] = field(default_factory=dict)

    def name(self, lang: str | None) -> str:
        if self.key.startswith("country:"):  # "Morocco", not "Moroccan" or "Marokko"
            from ..prepare.gazetteer import demonym_table

            demonyms = demonym_table()
            own = Counter({s: n for s, n in self.surfaces.get(lang or "", Counter()).items()
                           if s[:1].isupper() and fold_name(s) not in demonyms})  # fmt: skip
            if own:
                return own.most_common(1)[0][0]
            translated = country_name(self.key, lang)
            if translated:
                return translated
        if lang and self.surfaces.get(lang):
            return self._bare(self.surfaces[lang].most_common(1)[0][0])
        total: Counter[str] = Counter()
        for c in self.surfaces.values():
            total.update(c)
        return self._bare(total.most_common(1)[0][0]) if total else self.key

    def _bare(self, name: str) -> str:
        """``name`` without a title another language's surface leaves out ("Premierminister
        Narendra Modi" → "Narendra Modi", "Provinz Al Haouz" → "Al Haouz")."""
        others = {s for c in self.surfaces.values() for s in c}
        shorter = [t for t in others if len(t) < len(name) and name.endswith(" " + t)]
        return max(shorter, key=len) if shorter else strip_titles(name)


def _checked_key(
    surface: str, label: str, key: str, texts: Sequence[str], lang: str = ""
) -> str | None:
    """The key to show ``surface`` under, or None when it is not a real entity."""
    from .keyphrases import ALL_STOPWORDS

    if surface.split()[0].lower() in ALL_STOPWORDS and not key.startswith(("country:", "city:")):
        return None  # "Nach Angaben", "The"
    if not key.startswith("per:"):
        return key
    if _DIGIT.search(surface) or _DIGIT.search(key):
        return None
    place = _is_place(surface)
    if place is not None:
        return place
    if _common_phrase(surface) or (lang in NOUN_CAPS and german_noun(surface)):
        return None
    if " " not in surface.strip() and _after_article(surface, texts):
        return None
    return key


def checked_keys(p: Processed) -> set[str]:
    """The keys of an article's entities that pass :func:`_checked_key` (as shown)."""
    texts = [p.title, p.clean_text]
    keys = (_checked_key(surface, label, key, texts, p.lang) for surface, label, key in p.entities)
    return {k for k in keys if k is not None}


def display_entities(
    items: Sequence[Processed], lang: str | None = None, limit: int = 20
) -> list[tuple[str, str, int]]:
    """``(key, name, members naming it)`` for the entities worth showing, most named first,
    names in ``lang`` when known (see the module docstring)."""
    views: dict[str, EntityView] = {}
    for p in items:
        texts = [p.title, p.clean_text]
        for surface, label, key in p.entities:
            shown = _checked_key(surface, label, key, texts, p.lang)
            if shown is None:
                continue
            v = views.setdefault(shown, EntityView(shown, label))
            v.members.add(p.id)
            v.surfaces.setdefault(p.lang, Counter())[surface] += 1
    # a one-word "person" that is a word of another entity's name ("State" of "Islamic
    # State", "Etat" of "Etat islamique") is that entity seen in part
    words_of_others: dict[str, set[str]] = {}
    for v in views.values():
        for c in v.surfaces.values():
            for surface in c:
                if " " in surface:
                    for w in surface.split():
                        words_of_others.setdefault(w, set()).add(v.key)
    for v in list(views.values()):
        if v.key.startswith("per:"):
            singles = {s for c in v.surfaces.values() for s in c}
            if all(" " not in s and words_of_others.get(s, set()) - {v.key} for s in singles):
                del views[v.key]
    # merge transliteration / spelling variants of one person into the most named key
    people = sorted((v for v in views.values() if v.key.startswith("per:")),
                    key=lambda v: (-len(v.members), v.key))  # fmt: skip
    for i, keep in enumerate(people):
        if keep.key not in views:
            continue
        for other in people[i + 1 :]:
            if other.key not in views:
                continue
            if any(same_person(a, b) for a in _all(keep) for b in _all(other)):
                keep.members |= other.members
                for la, c in other.surfaces.items():
                    keep.surfaces.setdefault(la, Counter()).update(c)
                del views[other.key]
    ranked = sorted(views.values(), key=lambda v: (-len(v.members), v.key))
    if len(items) >= 3:  # in a larger event, a name only one article gives is mostly noise
        ranked = [v for v in ranked if len(v.members) >= 2]
    if len({p.lang for p in items}) >= 2:  # a name is written alike across languages; a
        ranked = [v for v in ranked if _across(v)]  # capitalised word of one language is not
    ranked = ranked[:limit]
    return [(v.key, v.name(lang), len(v.members)) for v in ranked]


def _across(v: EntityView) -> bool:
    """In a multilingual event: a place, a name given in two languages or more, or a
    multi-word name given by two articles ("Sud" of "pôle Sud" or "Union" of "Union
    soviétique", named in French only, are not shown)."""
    if v.key.startswith(("country:", "city:")) or len(v.surfaces) >= 2:
        return True
    return len(v.members) >= 2 and any(" " in s for c in v.surfaces.values() for s in c)


def _all(v: EntityView) -> list[str]:
    names = {s for c in v.surfaces.values() for s in c}
    return sorted(n for n in names if " " in n)[:5] or sorted(names)[:5]
