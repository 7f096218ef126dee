"""Extractive, multilingual headline, summary and keyphrases for an event.

Everything is chosen from the members' own titles and sentences: nothing is generated, so a
summary is always in the language of the member it was drawn from. ``lang`` asks for one
language (the *display language*); when no member has it, the best-covered language is used
instead (:func:`display_language` says which), never a mix of languages.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..prepare.clean import is_boilerplate
from ..text import phrase_key, word_count
from .headline import short_headline

__all__ = ["SummDoc", "display_language", "headline", "summary"]  # keyphrases: .keyphrases

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
    r"^(?:[^\W\d_][\w\s.,'’-]{0,40}\s*[(（][^)）]{1,30}[)）]\s*[-–—:]?\s*$|"  # "PARIS (AFP) -"
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


def display_language(members: Sequence[SummDoc], lang: str | None = None) -> str | None:
    """The language an event is described in: ``lang`` when a member has it, else the
    language most members share (the first to arrive on a tie); None without members.

    >>> docs = [SummDoc("a", "fr", "", []), SummDoc("b", "en", "", []), SummDoc("c", "en", "", [])]
    >>> display_language(docs), display_language(docs, "fr"), display_language(docs, "de")
    ('en', 'fr', 'en')
    """
    if not members:
        return None
    if lang and any(m.lang == lang for m in members):
        return lang
    counts = Counter(m.lang for m in members)
    order = [m.lang for m in members]
    return max(counts, key=lambda la: (counts[la], -order.index(la)))


def _pick_lang(members: Sequence[SummDoc], lang: str | None) -> list[SummDoc]:
    """The members in the display language (see :func:`display_language`)."""
    shown = display_language(members, lang)
    return [m for m in members if m.lang == shown]


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


# Sentences that open with a discourse marker comment on the news rather than state it.
_ASIDE = re.compile(
    r"^\W*(?:above all|for the moment|however|meanwhile|moreover|in addition|also|yet|but|"
    r"still|indeed|in fact|surtout|pour l'instant|pour le moment|cependant|toutefois|"
    r"par ailleurs|en outre|mais|or|d'ailleurs|vor allem|allerdings|jedoch|aber|"
    r"sobre todo|sin embargo|además|pero|por ahora)\b",
    re.IGNORECASE,
)


def _member_vector(m: SummDoc) -> np.ndarray | None:
    if m.vectors is None or not len(m.vectors):
        return None
    v = m.vectors.mean(axis=0)
    n = float(np.linalg.norm(v))
    return v / n if n else None


def central_member(pool: Sequence[SummDoc], centroid: np.ndarray | None) -> SummDoc | None:
    """The member of ``pool`` closest to the event centroid (the first one without vectors)."""
    if not pool:
        return None
    if centroid is None:
        return pool[0]
    scored = [(float(v @ centroid), -k) for k, m in enumerate(pool)
              if (v := _member_vector(m)) is not None]  # fmt: skip
    if not scored:
        return pool[0]
    return pool[-max(scored)[1]]


def lead(m: SummDoc, centroid: np.ndarray | None, window: int = 3) -> str:
    """What ``m`` says happened: among its first ``window`` usable sentences, the one closest
    to the event centroid (an opening aside such as "No timetable has been given." loses to
    the next sentence that states the news); the first one without vectors."""
    vecs = m.vectors if m.vectors is not None and len(m.vectors) == len(m.sentences) else None
    firsts = [(i, s.strip()) for i, s in enumerate(m.sentences) if _usable(s)][:window]
    if not firsts:
        return ""
    if vecs is None or centroid is None:
        return firsts[0][1]
    return max(firsts, key=lambda it: float(vecs[it[0]] @ centroid) - 0.05 * it[0])[1]


def headline(members: Sequence[SummDoc], lang: str | None = None) -> str:
    """A headline from the members in the display language (``lang`` when a member has it).

    The title of the member whose lead sentences are closest to the event centroid; without
    a usable title, a short headline-like span (:func:`~.headline.short_headline`, about 90
    characters) of the lead of the most central member. Never a boilerplate line. Returns
    ``""`` for an event without text.
    """
    pool = _pick_lang(members, lang)
    shown = display_language(members, lang)
    centroid = _centroid(members)
    titled = [m for m in pool if m.title.strip() and _usable(m.title, 3, 30)]
    if titled:
        if centroid is None or not all(m.vectors is not None for m in titled):
            return short_headline(titled[0].title, shown)

        def score(m: SummDoc) -> float:
            assert m.vectors is not None
            return float(m.vectors[: min(3, len(m.vectors))].mean(axis=0) @ centroid)

        return short_headline(max(titled, key=score).title, shown)
    ranked = sorted(pool, key=lambda m: m is not central_member(pool, centroid))
    for m in ranked:
        text = lead(m, centroid)
        if text:
            return short_headline(text, shown)
    return short_headline(next((m.title for m in pool if m.title.strip()), ""), shown)


def summary(
    members: Sequence[SummDoc],
    lang: str | None = None,
    max_sentences: int = 3,
    diversity: float = 0.3,
) -> str:
    """Up to ``max_sentences`` sentences from the members in the display language.

    The first is the lead of the most central member (:func:`lead`): it says what happened.
    The others are chosen by centroid relevance + MMR (near-duplicates of what is already
    chosen, such as translations, are left out) and follow in their article order. Without
    vectors, the lead sentences of the first member are used.
    """
    pool = _pick_lang(members, lang)
    cands = _candidates(pool)
    if not cands:
        return ""
    centroid = _centroid(members)
    if centroid is None or any(v is None for _, v, _, _ in cands):
        return " ".join(c[0] for c in cands[:max_sentences])
    vecs = np.stack([c[1] for c in cands])  # type: ignore[misc]
    first_member = central_member(pool, centroid)
    first = lead(first_member, centroid) if first_member is not None else ""
    chosen: list[int] = [k for k, c in enumerate(cands) if first and c[0] == first][:1]
    lead_bonus = np.array([1.0 / (1.0 + 0.15 * c[2]) for c in cands])
    aside = np.array([0.1 if _ASIDE.match(c[0]) else 0.0 for c in cands])
    relevance = vecs @ centroid + 0.15 * lead_bonus - aside
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
    head, rest = chosen[:1], chosen[1:]
    rest.sort(key=lambda i: (order.get(cands[i][3], 0), cands[i][2]))
    return " ".join(cands[i][0] for i in head + rest)
