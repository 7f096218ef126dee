"""Extractive, multilingual headline, summary and keyphrases for an event.

Everything is chosen from the members' own titles and sentences: nothing is generated, so a
summary is always in the language of the member it was drawn from. ``lang`` asks for one
language; when no member has it the whole event is used.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..prepare.clean import is_boilerplate
from ..text import phrase_key, word_count

__all__ = ["SummDoc", "headline", "keyphrases", "summary"]

log = logging.getLogger(__name__)


@dataclass
class SummDoc:
    """One event member as summaries see it; ``vectors`` has one unit row per sentence."""

    id: str
    lang: str
    title: str
    sentences: list[str]
    vectors: np.ndarray | None = None
    published: dt.date | None = None


_DATELINE = re.compile(
    r"^(?:[A-ZÀ-Þ][\w\s.,'’-]{0,40}\s*[(（][^)）]{1,30}[)）]\s*[-–—:]?\s*$|"  # "PARIS (AFP) -"
    r"\W*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\W*$|\W*date\s+\d{4}(?:-\d\d){0,2}\W*$|"
    r"(?:by|par|von|por|di)\s+[A-ZÀ-Þ]\w+(?:\s+[A-ZÀ-Þ]\w+){0,3}\s*$)",
    re.IGNORECASE,
)


def _usable(sentence: str, min_words: int = 6, max_words: int = 60) -> bool:
    s = sentence.strip()
    if not s or is_boilerplate(s) or _DATELINE.match(s):
        return False
    if s.isupper() or s.startswith((">>", "»", "►", "|", "#")):
        return False
    return min_words <= word_count(s) <= max_words


def _pick_lang(members: Sequence[SummDoc], lang: str | None) -> list[SummDoc]:
    """Members in ``lang``; without ``lang``, in the event's most common language."""
    if lang is None and members:
        counts = Counter(m.lang for m in members)
        lang = max(counts, key=lambda la: (counts[la], -[m.lang for m in members].index(la)))
    if lang:
        chosen = [m for m in members if m.lang == lang]
        if chosen:
            return chosen
    return list(members)


def _centroid(members: Sequence[SummDoc]) -> np.ndarray | None:
    rows = [m.vectors for m in members if m.vectors is not None and len(m.vectors)]
    if not rows:
        return None
    c = np.concatenate(rows).mean(axis=0)
    n = float(np.linalg.norm(c))
    return c / n if n else None


def _candidates(
    members: Sequence[SummDoc],
) -> list[tuple[str, np.ndarray | None, int, str]]:
    """Usable sentences as (text, vector or None, position in its article, member id)."""
    out: list[tuple[str, np.ndarray | None, int, str]] = []
    seen: set[str] = set()
    for m in members:
        vecs = m.vectors if m.vectors is not None and len(m.vectors) == len(m.sentences) else None
        for i, s in enumerate(m.sentences):
            key = phrase_key(s)
            if key in seen or not _usable(s):
                continue
            seen.add(key)
            out.append((s.strip(), None if vecs is None else vecs[i], i, m.id))
    return out


def headline(members: Sequence[SummDoc], lang: str | None = None) -> str:
    """A title from the members: the one closest to the event centroid, in ``lang`` if any.

    Falls back to the first usable sentence of the most central member; never a boilerplate
    line. Returns ``""`` for an event without text.
    """
    pool = _pick_lang(members, lang)
    centroid = _centroid(members)
    titled = [m for m in pool if m.title.strip() and _usable(m.title, 3, 30)]
    if titled:
        if centroid is None or not all(m.vectors is not None for m in titled):
            return titled[0].title.strip()

        def score(m: SummDoc) -> float:
            assert m.vectors is not None
            return float(m.vectors[: min(3, len(m.vectors))].mean(axis=0) @ centroid)

        return max(titled, key=score).title.strip()
    cands = _candidates(pool)
    if not cands:
        return next((m.title.strip() for m in pool if m.title.strip()), "")
    if centroid is not None and all(v is not None for _, v, _, _ in cands):
        return max(cands, key=lambda c: float(c[1] @ centroid) - 0.02 * c[2])[0]  # type: ignore[operator]
    return min(cands, key=lambda c: c[2])[0]


def summary(
    members: Sequence[SummDoc],
    lang: str | None = None,
    max_sentences: int = 3,
    diversity: float = 0.3,
) -> str:
    """Up to ``max_sentences`` sentences chosen by centroid relevance + MMR, lead preferred.

    Sentences come from the members in ``lang`` when any; they are returned in their
    article order. Without vectors, the lead sentences of the first member are used.
    """
    pool = _pick_lang(members, lang)
    cands = _candidates(pool)
    if not cands:
        return ""
    centroid = _centroid(members)
    if centroid is None or any(v is None for _, v, _, _ in cands):
        return " ".join(c[0] for c in cands[:max_sentences])
    vecs = np.stack([c[1] for c in cands])  # type: ignore[misc]
    lead = np.array([1.0 / (1.0 + 0.15 * c[2]) for c in cands])
    relevance = vecs @ centroid + 0.15 * lead
    chosen: list[int] = []
    while len(chosen) < min(max_sentences, len(cands)):
        if chosen:
            redundancy = (vecs @ vecs[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(cands))
        mmr = (1 - diversity) * relevance - diversity * redundancy
        mmr[chosen] = -np.inf
        mmr[redundancy > 0.9] = -np.inf  # near-duplicates (copies, translations)
        best = int(np.argmax(mmr))
        if not np.isfinite(mmr[best]):
            break
        chosen.append(best)
    order = {m.id: k for k, m in enumerate(pool)}
    chosen.sort(key=lambda i: (order.get(cands[i][3], 0), cands[i][2]))
    return " ".join(cands[i][0] for i in chosen)


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
_STOP = {k: frozenset(v.split()) for k, v in _STOPWORDS.items()}
_ALL_STOP = frozenset().union(*_STOP.values())
_TOKEN = re.compile(r"[^\W_][\w'’-]*|[,.;:!?()\"“”«»]", re.UNICODE)


def _phrases(text: str, stop: frozenset[str], max_len: int = 3) -> list[str]:
    """Candidate phrases: runs of non-stopword tokens (1..max_len), split at punctuation."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        for n in range(1, max_len + 1):
            for i in range(len(run) - n + 1):
                out.append(" ".join(run[i : i + n]))
        run.clear()

    for tok in _TOKEN.findall(text):
        low = tok.lower().strip("'’-")
        if not low or not low[0].isalnum() or low in stop or low.isdigit() or len(low) < 2:
            flush()
        else:
            run.append(tok)
    flush()
    return out


def keyphrases(members: Sequence[SummDoc], k: int = 8) -> list[str]:
    """Top ``k`` phrases: spread over members (document frequency), frequent, multi-word and
    title-borne phrases preferred; case-folded duplicates and sub-phrases removed."""
    tf: Counter[str] = Counter()
    df: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for m in members:
        stop = _STOP.get(m.lang, frozenset()) | _ALL_STOP
        seen: set[str] = set()
        for weight, text in ((3, m.title), (1, " \n ".join(m.sentences))):
            for sentence in re.split(r"[\n.!?。]+", text):
                if not sentence.strip() or is_boilerplate(sentence.strip()):
                    continue
                for p in _phrases(sentence, stop):
                    key = phrase_key(p)
                    if not key:
                        continue
                    tf[key] += weight
                    surface.setdefault(key, Counter())[p] += 1
                    if key not in seen:
                        seen.add(key)
                        df[key] += 1
    scored = []
    for key, f in tf.items():
        n = len(key.split())
        if f < 2 and len(members) > 1:
            continue
        score = math.log1p(f) * (1 + df[key]) * (1.0 + 0.6 * (n - 1))
        scored.append((score, key))
    scored.sort(key=lambda x: (-x[0], x[1]))
    out: list[str] = []
    keys: list[str] = []
    for _, key in scored:
        if any(f" {key} " in f" {o} " or f" {o} " in f" {key} " for o in keys):
            continue
        keys.append(key)
        out.append(surface[key].most_common(1)[0][0])
        if len(out) >= k:
            break
    return out
