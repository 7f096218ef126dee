"""Keyphrases of an event: what it is about, in a few phrases.

:func:`keyphrases` is what a reader sees: whole noun-phrase-like runs and names from the
members in the display language. :func:`linking_keyphrases` is what the story linker compares
(n-grams of every member in every language, turned into entity keys where they name one); its
weights were fitted on those, so it keeps its own stopword lists and tokens.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence

from ..prepare.clean import is_boilerplate
from ..text import phrase_key
from .summarize import SummDoc, display_language

__all__ = ["ALL_STOPWORDS", "keyphrases", "linking_keyphrases"]

_STOPWORDS = {
    "en": "a an the and or but if of to in on at by for with from as is are was were be been "
    "being has have had do does did will would shall should can could may might must this that "
    "these those it its he she they them his her their we our you your i not no so than then "
    "there here which who whom whose what when where why how all any both each more most other "
    "some such only own same also just over under after before about into through during "
    "against between up down out off again further once said says say new one two us mr mrs",
    "fr": "le la les un une des du de d l et ou mais donc or ni car a à au aux en dans par pour "
    "sur sous avec sans ce cet cette ces son sa ses leur leurs qui que quoi dont où il elle "
    "ils elles on nous vous je tu se s n ne pas plus est sont été être avoir a ont avait sera "
    "fait comme aussi entre après avant selon lors tout tous toute toutes même très y qu c",
    "de": "der die das den dem des ein eine einer eines einem einen und oder aber wenn als "
    "wie in im am an auf aus bei mit nach von vor zu zum zur für über unter durch gegen ohne "
    "um ist sind war waren wird werden wurde wurden hat haben hatte sein nicht auch noch nur "
    "schon sich es er sie wir ihr ich man dass so bis seit sowie diese dieser dieses",
    "es": "el la los las un una unos unas y o pero si de del al a en por para con sin sobre "
    "entre tras desde hasta que qué quien como cuando donde es son fue fueron ser ha han había "
    "se su sus lo le les no más ya también muy este esta estos estas ese esa",
}
# the story linker's phrases keep the lists they were fitted with
_LINK_STOP = {k: frozenset(v.split()) for k, v in _STOPWORDS.items()}
_LINK_ALL_STOP = frozenset().union(*_LINK_STOP.values())
_LINK_TOKEN = re.compile(r"[^\W_][\w'’-]*|[,.;:!?()\"“”«»]", re.UNICODE)
_STOPWORDS["fr"] += " contre vers chez depuis pendant encore déjà bien peu ainsi alors"
_STOPWORDS.update(
    {
        "it": "il lo la i gli le un uno una di a da in con su per tra fra e o ma se che chi non più "
        "è sono era erano stato essere ha hanno aveva del della dei delle al alla ai agli nel nella "
        "sul sulla questo questa quello quella come anche dopo prima",
        "pt": "o a os as um uma uns umas de do da dos das em no na nos nas por para com sem e ou mas "
        "se que não mais é são foi foram ser ter tem ao aos à às este esta esse essa como também",
        "nl": "de het een en of maar als dan in op aan bij met van voor naar door over uit om te is "
        "zijn was waren wordt werd heeft hebben had niet ook nog die dat deze dit er hij zij ze we",
        "tr": "ve veya ile bir bu şu o da de ki için gibi daha çok en ne mi mı mu mü olan oldu olarak "
        "ise ancak ama sonra önce kadar göre tarafından üzere",
        "ar": "في من إلى الى على عن بعد قبل مع أن إن ان التي الذي الذين هذا هذه ذلك تلك ما لا لم لن "
        "و أو ثم كان كانت قد كما حتى بين عند منذ خلال حيث أي كل بعض غير أكثر نحو وقد وفي",
        "ru": "и в во на с со к ко по за из от до о об у не но а что как это этот эта то так же ли "
        "бы был была были быть он она они его её их при для после перед между также",
        "uk": "і й в у на з із до від за по про о не але а що як це цей ця той так же чи був була "
        "були бути він вона вони його її їх при для після перед між також",
        "el": "ο η το οι τα του της των τον την στο στη στον στην σε και ή αλλά να θα με από για "
        "ως που δεν είναι ήταν μετά πριν κατά προς ένα μια ένας",
        "hi": "का की के को में से पर और या है हैं था थी थे ने यह वह इस उस एक भी तो ही कि जो लिए "
        "बाद साथ द्वारा तक",
    }
)
_STOP = {k: frozenset(v.split()) for k, v in _STOPWORDS.items()}
ALL_STOPWORDS = frozenset().union(*_STOP.values())
_TOKEN = re.compile(r"[^\W_][\w'’-]*|[,.;:!?()\"“”«»،؛]", re.UNICODE)
_ELISION = re.compile(r"^(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


def _phrases(text: str, stop: frozenset[str], max_len: int = 3) -> list[str]:
    """Candidate phrases: whole runs of 1..``max_len`` content words, bounded by stopwords,
    punctuation or the sentence's ends. A run cut by a number or longer than ``max_len`` is a
    fragment ("déploient environ 2500"), not a phrase, except for its capitalised names."""
    out: list[str] = []
    run: list[str] = []
    broken = False

    def flush(clean_end: bool) -> None:
        nonlocal broken
        if run and not broken and clean_end and len(run) <= max_len:
            out.append(" ".join(run))
        elif run:  # keep the names inside a fragment: runs of capitalised words
            names: list[str] = []
            for tok in [*run, ""]:
                if tok[:1].isupper() and len(tok) > 2:
                    names.append(tok)
                    continue
                if names and len(names) <= max_len:
                    out.append(" ".join(names))
                names = []
        run.clear()
        broken = False

    for tok in _TOKEN.findall(text):
        m = _ELISION.match(tok)
        if m and len(tok) > m.end():  # "l’avant-veille" → stopword "l’" + "avant-veille"
            flush(True)
            tok = tok[m.end() :]
        low = tok.lower().strip("'’-")
        if low.isdigit() or (low[:1].isdigit()):
            broken = bool(run)
            flush(False)
            broken = True  # the run after a number starts cut, too
            continue
        if not low or not low[0].isalnum() or low in stop or len(low) < 2 or len(low) > 30:
            flush(True)
        else:
            run.append(tok)
    flush(True)
    return out


def keyphrases(members: Sequence[SummDoc], k: int = 8, lang: str | None = None) -> list[str]:
    """Top ``k`` phrases of the members in the display language (:func:`display_language`):
    whole noun-phrase-like runs and names, spread over members (document frequency), frequent,
    multi-word and title-borne phrases preferred; case-folded duplicates and sub-phrases
    removed. A phrase must occur twice (a title counts three times)."""
    shown = display_language(members, lang)
    members = [m for m in members if m.lang == shown]
    tf: Counter[str] = Counter()
    df: Counter[str] = Counter()
    in_body: set[str] = set()
    surface = _Surfaces()
    for m in members:
        stop = _stopwords(m.lang)
        seen: set[str] = set()
        for weight, sentence in _sentences(m):
            for p in _phrases(sentence, stop):
                key = phrase_key(p)
                if not key or len(key) < 3:
                    continue
                if weight == 1:
                    in_body.add(key)
                tf[key] += weight
                surface.add(key, p)
                seen.add(key)
        df.update(seen)
    keep = [key for key, f in tf.items() if f >= 2 and key in in_body]
    return _top(keep, tf, df, surface, k)


@functools.lru_cache(maxsize=256)
def _stopwords(lang: str, link: bool = False) -> frozenset[str]:
    """The stopwords of ``lang`` and of every language (the linker's own lists with ``link``)."""
    if link:
        return _LINK_STOP.get(lang, frozenset()) | _LINK_ALL_STOP
    return _STOP.get(lang, frozenset()) | ALL_STOPWORDS


_SENTENCE_END = re.compile(r"[\n.!?。]+")


def _sentences(m: SummDoc) -> Iterator[tuple[int, str]]:
    """(weight, sentence) of a member's title (weight 3) and text (1), boilerplate left out."""
    for weight, text in ((3, m.title), (1, " \n ".join(m.sentences))):
        for sentence in _SENTENCE_END.split(text):
            bare = sentence.strip()
            if bare and not is_boilerplate(bare):
                yield weight, sentence


class _Surfaces:
    """How often each key was written in each form, in order of first sight; a key seen in
    one form only (most) costs a string and a count, not a Counter."""

    __slots__ = ("_count", "_first", "_forms")

    def __init__(self) -> None:
        self._first: dict[str, str] = {}
        self._count: Counter[str] = Counter()
        self._forms: dict[str, Counter[str]] = {}

    def add(self, key: str, form: str) -> None:
        forms = self._forms.get(key)
        if forms is not None:
            forms[form] += 1
        elif self._first.setdefault(key, form) == form:
            self._count[key] += 1
        else:
            self._forms[key] = Counter({self._first[key]: self._count[key], form: 1})

    def most_common(self, key: str) -> str:
        """The form written most often (the first seen of those that tie)."""
        forms = self._forms.get(key)
        return self._first[key] if forms is None else forms.most_common(1)[0][0]


def _ngram_phrases(text: str, stop: frozenset[str], max_len: int = 3) -> list[tuple[str, str]]:
    """(key, phrase) of the n-grams (1..max_len) of runs of non-stopword tokens, split at
    punctuation. An n-gram's key is its tokens' :func:`phrase_key` joined by spaces, which is
    the :func:`phrase_key` of the n-gram (each token starts with a letter or digit)."""
    out: list[tuple[str, str]] = []
    run: list[str] = []
    keys: list[str] = []

    def flush() -> None:
        for n in range(1, max_len + 1):
            for i in range(len(run) - n + 1):
                out.append((" ".join(keys[i : i + n]), " ".join(run[i : i + n])))
        run.clear()
        keys.clear()

    for tok in _LINK_TOKEN.findall(text):
        low = tok.lower().strip("'’-")
        if not low or not low[0].isalnum() or low in stop or low.isdigit() or len(low) < 2:
            flush()
            continue
        key = phrase_key(tok)
        if not key:  # (no word character left: not a word to join)
            flush()
            continue
        run.append(tok)
        keys.append(key)
    flush()
    return out


def linking_keyphrases(members: Sequence[SummDoc], k: int = 8) -> list[str]:
    """What the story linker compares (its weights were fitted on these; the display uses
    :func:`keyphrases`): top ``k`` n-grams of every member, all languages: spread over
    members (document frequency), frequent, multi-word and
    title-borne phrases preferred; case-folded duplicates and sub-phrases removed."""
    tf: Counter[str] = Counter()
    df: Counter[str] = Counter()
    surface = _Surfaces()
    for m in members:
        stop = _stopwords(m.lang, link=True)
        seen: set[str] = set()
        for weight, sentence in _sentences(m):
            for key, p in _ngram_phrases(sentence, stop):
                tf[key] += weight
                surface.add(key, p)
                seen.add(key)
        df.update(seen)
    keep = [key for key, f in tf.items() if f >= 2 or len(members) <= 1]
    return _top(keep, tf, df, surface, k)


def _top(keys: Sequence[str], tf: Counter[str], df: Counter[str], surface: _Surfaces, k: int) -> list[str]:
    """The ``k`` best of ``keys`` (frequent, spread over members, multi-word preferred), none
    inside another one chosen, each in its most common surface form."""
    scored = sorted(
        ((math.log1p(tf[key]) * (1 + df[key]) * (1.0 + 0.6 * (len(key.split()) - 1)), key) for key in keys),
        key=lambda x: (-x[0], x[1]),
    )
    out: list[str] = []
    chosen: list[str] = []
    for _, key in scored:
        if any(f" {key} " in f" {o} " or f" {o} " in f" {key} " for o in chosen):
            continue
        chosen.append(key)
        out.append(surface.most_common(key))
        if len(out) >= k:
            break
    return out
