"""From an article to a prepared article: cleaning, language, title, sentences, dates, entities.

``prepare`` is per article and cheap (no encoder); features are built from its result by
:class:`~storyline.represent.builder.FeatureBuilder`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..model import Article, Processed, Quarantined, utc_now
from .clean import RepeatedLineFilter, clean_text, looks_like_title, split_sentences
from .dates import estimate_event_date
from .entities import extract_entities
from .lang import detect_language, normalize_lang

log = logging.getLogger(__name__)



MAX_SENTENCE_CHARS = 1000  # a longer "sentence" is cut in pieces: encoders pay by length


def bound_sentences(sentences: list[str], limit: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences of at most ``limit`` characters: longer ones cut at spaces (or anywhere).

    >>> [len(s) for s in bound_sentences(["a " * 1500], 1000)]
    [999, 999, 999]
    """
    out: list[str] = []
    for s in sentences:
        while len(s) > limit:
            cut = s.rfind(" ", limit // 2, limit)
            cut = cut if cut > 0 else limit
            out.append(s[:cut].strip())
            s = s[cut:].strip()
        if s:
            out.append(s)
    return out


def prepare(article: Article, repeated: RepeatedLineFilter | None = None) -> Processed:
    """Clean, detect the language, find a title, split sentences, estimate the event date."""
    raw = article.text
    given = normalize_lang(article.lang) or ""
    if given:
        lang, conf = given, 1.0
    else:
        lang, conf = detect_language(f"{article.title or ''}\n{raw}")
    text = clean_text(raw, lang)
    if repeated is not None:
        text = repeated.filter(article.source, text)
    title = (article.title or "").strip()
    if not title:
        first, _, rest = text.partition("\n")
        if rest.strip() and looks_like_title(first):
            title, text = first.strip(), rest.strip()
    sentences = bound_sentences(split_sentences(text, lang))
    try:
        event_date, why = estimate_event_date(
            f"{title}\n{raw}", lang, article.published, article.published_precision
        )
    except (OverflowError, ValueError) as exc:  # a date near the calendar's limits
        log.warning("event date of %s not estimated: %s", article.id, exc)
        event_date, why = article.published, "published" if article.published else None
    try:
        entities = extract_entities(text, lang, title=title)
    except Exception as exc:  # noqa: BLE001 - one article's entities must never stop a run
        log.warning("entity extraction failed for %s: %s", article.id, exc)
        entities = []
    return Processed(
        article=article,
        clean_text=text,
        lang=lang,
        lang_confidence=round(float(conf), 4),
        event_date=event_date,
        event_date_source=why,
        title=title,
        sentences=sentences,
        entities=entities,
    )


# A worker process preparing part of a run keeps the run's repeated-line filter here
# (set once per run with ``use_filter``, then ``prepare_many`` per batch).
_worker_filter: RepeatedLineFilter | None = None


def use_filter(repeated: RepeatedLineFilter | None) -> None:
    global _worker_filter
    _worker_filter = repeated


def prepare_or_quarantine(
    article: Article, repeated: RepeatedLineFilter | None = None
) -> Processed | Quarantined:
    """:func:`prepare`, or the article in quarantine with its error when that fails."""
    try:
        return prepare(article, repeated)
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - one article never stops a run
        log.warning("%s failed to prepare (quarantined): %s: %s", article.id, type(exc).__name__, exc)
        return Quarantined(article, f"prepare: {type(exc).__name__}: {exc}"[:500], utc_now())


def prepare_many(articles: Sequence[Article]) -> list[Processed | Quarantined]:
    """:func:`prepare_or_quarantine` of several articles with the filter given to
    :func:`use_filter`."""
    return [prepare_or_quarantine(a, _worker_filter) for a in articles]
