"""What an event is made of: families, date, languages, sources, entities, headline, summary.

Computed from an event's member articles whenever the event changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..model import Event, Processed
from ..stories.event import StoryEvent
from ..text import clip, fold, has_word
from .entities import checked_keys, display_entities
from .families import FamilyDoc, FamilyFinder
from .keyphrases import keyphrases, linking_keyphrases
from .summarize import SummDoc, display_language, headline, summary


def event_date(items: Sequence[Processed]) -> tuple[dt.date | None, tuple[dt.date, dt.date] | None]:
    """The median of the members' estimated dates (text dates first), and their range."""
    from_text = sorted(
        p.event_date for p in items if p.event_date and (p.event_date_source or "").startswith("text")
    )
    dates = from_text or sorted(p.event_date for p in items if p.event_date)
    if not dates:
        return None, None
    return dates[(len(dates) - 1) // 2], (dates[0], dates[-1])


def families(
    items: Sequence[Processed],
    vectors: dict[str, np.ndarray],
    finder: FamilyFinder | None = None,
    titles: dict[str, np.ndarray] | None = None,
    known: dict[str, str] | None = None,
) -> dict[str, str]:
    """Article id → family id (``fam-<first member id>``), members in the given order.

    ``titles`` (title vectors by content hash) put a titled article's title first among its
    sentences: a translation translates the title too, two reports of one event seldom share
    one, which tells them apart when their sentences are close (docs/entities.md).
    ``known``: the families this gave for a prefix of ``items`` (see
    :meth:`FamilyFinder.group`).
    """
    finder = finder or FamilyFinder()
    docs = []
    for p in items:
        v = vectors.get(p.article.hash)
        sents = p.sentences[: len(v)] if v is not None else None
        if v is not None and sents is not None and len(sents) != len(v):
            v, sents = None, None
        t = (titles or {}).get(p.article.hash)
        if v is not None and sents is not None and p.title and t is not None:
            v = np.vstack([t.reshape(1, -1).astype(v.dtype), v])
            sents = [p.title, *sents]
        docs.append(FamilyDoc(p.id, p.lang, p.clean_text, vectors=v, sentences=sents))
    return finder.group(docs, known)


MEMO_MIN = 16  # events at least this large remember their members' families (FamilyMemo)


class FamilyMemo:
    """The families last computed for each large event of one store (by event id: its
    members in order and their families), so that describing the event again after members
    joined compares only the new members with the others: linear in the event's size rather
    than quadratic. Only a prefix of the members in the same order is reused (a merge or a
    correction that reorders them computes everything again)."""

    def __init__(self, min_size: int = MEMO_MIN) -> None:
        self.min_size = min_size
        self._last: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}

    def known(self, ev: str, ids: Sequence[str]) -> dict[str, str] | None:
        last = self._last.get(ev)
        if last is None or len(last[0]) > len(ids) or tuple(ids[: len(last[0])]) != last[0]:
            return None
        return last[1]

    def remember(self, ev: str, ids: Sequence[str], fams: dict[str, str]) -> None:
        if len(ids) >= self.min_size:
            self._last[ev] = (tuple(ids), fams)
        else:
            self._last.pop(ev, None)


_stores: dict[str, object] = {}  # stores opened by a worker process, by URL
_memos: dict[tuple[str, str], FamilyMemo] = {}  # their families memos, by URL and vector kind


def describe_stored(
    url: str, jobs: Sequence[tuple[str, list[str], str]], kind: str
) -> list[tuple[Event, dict[str, str]]]:
    """(:func:`describe`, :func:`families`) of events read from the store at ``url``, for a
    worker process sharing a run's describing; ``jobs``: (event id, member ids, created)."""
    from ..store import open_store

    store = _stores.get(url)
    if store is None:
        store = _stores[url] = open_store(url)
    memo = _memos.setdefault((url, kind), FamilyMemo())
    return [describe_members(store, ev, list(store_items(store, ids)), created, kind, memo)
            for ev, ids, created in jobs]


def describe_jobs(url: str, kind: str, jobs: Sequence[tuple[str, list[str], str]]) -> list[tuple[Event, dict[str, str]]]:
    """:func:`describe_stored` with the jobs last (for :meth:`ProcessEncoder.spare`)."""
    return describe_stored(url, jobs, kind)


def store_items(store, ids: Sequence[str]) -> list[Processed]:  # type: ignore[no-untyped-def]
    """The stored articles ``ids``, in that order."""
    stored = {p.id: p for p in store.iter_articles(ids)}
    return [stored[a] for a in ids]


def describe_members(  # type: ignore[no-untyped-def]
    store, ev: str, items: Sequence[Processed], created: str, kind: str, memo: FamilyMemo | None = None
) -> tuple[Event, dict[str, str]]:
    """(:func:`describe`, :func:`families`) of an event's members, their sentence vectors (of
    the vector ``kind``) read from ``store``; ``memo``: the store's :class:`FamilyMemo` (for
    that ``kind``)."""
    hashes = [p.article.hash for p in items]
    vectors = store.get_vectors(hashes, kind)
    titles = store.get_vectors(hashes, kind.rsplit(":", 1)[0] + ":title")
    ids = [p.id for p in items]
    fams = families(items, vectors, titles=titles, known=memo.known(ev, ids) if memo else None)
    if memo is not None:
        memo.remember(ev, ids, fams)
    return describe(ev, items, vectors, created), fams


def core_entities(items: Sequence[Processed], share: float = 0.5) -> frozenset[str]:
    """Entity keys found in at least ``share`` of the members (the event's main actors), after
    the same checks as the entities shown (a "person" that is a common noun phrase, a number
    or a place is not one: "per:foto" would tie unrelated events)."""
    counts: Counter[str] = Counter()
    for p in items:
        counts.update(checked_keys(p))
    need = max(1, int(np.ceil(share * len(items))))
    return frozenset(k for k, c in counts.items() if c >= need)


def describe(
    event_id: str,
    items: Sequence[Processed],
    vectors: dict[str, np.ndarray],
    created: str,
    lang: str | None = None,
) -> Event:
    """Build the :class:`Event` record of one event from its members (in arrival order)."""
    date, rng = event_date(items)
    docs = [
        SummDoc(
            p.id,
            p.lang,
            p.title,
            list(p.sentences[: len(vectors[p.article.hash])])
            if p.article.hash in vectors
            else list(p.sentences),
            vectors.get(p.article.hash),
            p.article.published,
        )
        for p in items
    ]
    docs = [d if d.vectors is None or len(d.vectors) == len(d.sentences) else
            SummDoc(d.id, d.lang, d.title, d.sentences, None, d.published) for d in docs]
    shown = display_language(docs, lang)
    entities = display_entities(items, shown)
    title = next((p.title for p in items if p.title), items[0].sentences[0] if items[0].sentences else "")
    event = Event(
        id=event_id,
        article_ids=[p.id for p in items],
        created=created,
        date=date,
        date_range=rng,
        languages=dict(Counter(p.lang for p in items).most_common()),
        sources=dict(Counter(p.article.source for p in items if p.article.source).most_common()),
        title=title[:300],
        headline=(headline(docs, lang) or _as_written(items))[:300],
        summary=summary(docs, lang),
        keyphrases=keyphrases(docs, lang=lang),
        entities=entities,
    )
    # what the story linker compares (not stored; story_event recomputes it when missing)
    event.linking_keyphrases_ = linking_keyphrases(docs)  # type: ignore[attr-defined]
    return event


def _as_written(items: Sequence[Processed], chars: int = 90) -> str:
    """The first member's text as written, whitespace collapsed: the headline of an event
    whose members hold nothing a headline is made of (only an emoji, "!!!")."""
    for p in items:
        if text := clip(f"{p.article.title or ''} {p.article.text or ''}", chars):
            return text
    return ""


def keyphrase_keys(phrases: Sequence[str], items: Sequence[Processed]) -> list[str]:
    """Keyphrases in a form that compares across languages: a phrase that names one of the
    event's entities becomes that entity's key, prefixed ``@`` (``"Etats-Unis déploient
    environ"`` → ``"@country:US"``, ``"United States"`` → ``"@country:US"``); other phrases
    stay as they are. Names are matched as whole words, accent- and case-folded."""
    names: dict[str, str] = {}
    for p in items:
        for surface, _label, key in p.entities:
            name = fold(surface.strip())
            if len(name) >= 2:
                names.setdefault(name, key)
    by_length = sorted(names.items(), key=lambda nk: -len(nk[0]))
    out: list[str] = []
    for phrase in phrases:
        folded = fold(phrase)
        keys = [k for n, k in by_length if has_word(folded, n)]
        for k in keys or [phrase]:
            k = f"@{k}" if keys else k
            if k not in out:
                out.append(k)
    return out


def story_event(event: Event, centroid: np.ndarray, items: Sequence[Processed]) -> StoryEvent:
    """What the story linker sees of an event: core entity keys, cross-lingual keyphrases
    (:func:`~.summarize.linking_keyphrases` of every member, not the display ones)."""
    phrases = getattr(event, "linking_keyphrases_", None)
    if phrases is None:  # an event read back from the store: from the members' sentences
        phrases = linking_keyphrases([SummDoc(p.id, p.lang, p.title, list(p.sentences)) for p in items])
    return StoryEvent(
        id=event.id,
        date=event.date,
        centroid=centroid.astype(np.float32),
        entities=core_entities(items),
        keyphrases=keyphrase_keys(phrases, items),
        size=len(items),
        langs=frozenset(event.languages),
    )
