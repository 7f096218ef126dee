"""The store contract. SQLite implements it by default; Postgres + pgvector fits behind it.

One writer at a time. Every method that writes is atomic on its own; ``transaction()`` groups
several writes (one article's writes, or a batch) into one commit.
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Self

import numpy as np

from ..model import Assignment, Correction, Event, Merge, Processed, Quarantined, Story


class Store(abc.ABC):
    """Persistent state of storyline: articles, vectors, assignments, events, stories, merges."""

    #: how another process opens this store (``open_store(url)``); "" when it cannot
    url: str = ""
    #: the store lives in this process only (an in-memory database)
    memory: bool = False

    # -- lifecycle ---------------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes into one commit (re-entrant: nested calls join the outer one)."""

    def writer_lock(self) -> AbstractContextManager[None]:
        """Held by a pipeline for a whole run, so writers (other processes too) take turns.

        The default does nothing; file and server stores override it.
        """
        return contextlib.nullcontext()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- articles ----------------------------------------------------------------------------
    @abc.abstractmethod
    def add_article(self, item: Processed) -> bool:
        """Store an article once. Returns False (and changes nothing) when the id is known."""

    @abc.abstractmethod
    def has_article(self, article_id: str) -> bool: ...

    @abc.abstractmethod
    def get_article(self, article_id: str) -> Processed | None: ...

    @abc.abstractmethod
    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Processed]:
        """All articles (or those of ``ids``) in insertion order."""

    @abc.abstractmethod
    def count_articles(self) -> int: ...

    # -- vectors, cached by content hash and kind ("<encoder name>:sents", ":title", ":lead") --
    @abc.abstractmethod
    def get_vectors(self, hashes: Iterable[str], kind: str) -> dict[str, np.ndarray]:
        """float32 arrays (1-d or 2-d, as stored) for the hashes that are present."""

    @abc.abstractmethod
    def put_vectors(self, items: dict[str, np.ndarray], kind: str) -> None:
        """Store float32 arrays; existing (hash, kind) entries are left as they are."""

    def vector_keys(self, hashes: Iterable[str], kind: str) -> set[str]:
        """The hashes among ``hashes`` that have a vector of ``kind`` (without reading the
        vectors: ingest workers skip what is encoded already)."""
        return set(self.get_vectors(hashes, kind))

    # -- assignments --------------------------------------------------------------------------
    @abc.abstractmethod
    def put_assignments(self, items: Iterable[Assignment]) -> None:
        """Insert or replace the assignment of each article."""

    @abc.abstractmethod
    def get_assignment(self, article_id: str) -> Assignment | None: ...

    def get_assignments(self, article_ids: Iterable[str]) -> dict[str, Assignment]:
        """The stored assignments of these articles (those that have one), by article id:
        the writer reads a touched event's members at once, not one query each."""
        found = ((a, self.get_assignment(a)) for a in dict.fromkeys(article_ids))
        return {a: x for a, x in found if x is not None}

    @abc.abstractmethod
    def iter_assignments(self) -> Iterator[Assignment]:
        """All assignments in article insertion order."""

    # -- events and stories -------------------------------------------------------------------
    @abc.abstractmethod
    def put_event(self, event: Event) -> None:
        """Insert or replace an event (its members, date, languages, summary fields)."""

    @abc.abstractmethod
    def get_event(self, event_id: str) -> Event | None:
        """The event with this id, following merges (a merged id returns the survivor)."""

    @abc.abstractmethod
    def delete_event(self, event_id: str) -> None:
        """Remove a live event row (after a merge; its id stays resolvable via the merge log)."""

    @abc.abstractmethod
    def iter_events(self) -> Iterator[Event]:
        """Live events, oldest first."""

    @abc.abstractmethod
    def put_story(self, story: Story) -> None: ...

    @abc.abstractmethod
    def get_story(self, story_id: str) -> Story | None: ...

    @abc.abstractmethod
    def delete_story(self, story_id: str) -> None: ...

    @abc.abstractmethod
    def iter_stories(self) -> Iterator[Story]: ...

    # -- merges --------------------------------------------------------------------------------
    @abc.abstractmethod
    def record_merge(self, merge: Merge) -> None: ...

    @abc.abstractmethod
    def merges(self, kind: str | None = None) -> list[Merge]:
        """The merge log, oldest first."""

    def resolve(self, kind: str, some_id: str) -> str:
        """Follow the merge log from ``some_id`` to the id that survives today."""
        table = {m.loser: m.winner for m in self.merges(kind)}
        seen = set()
        while some_id in table and some_id not in seen:
            seen.add(some_id)
            some_id = table[some_id]
        return some_id

    # -- small key/value state (clusterer parameters, counters) -------------------------------
    @abc.abstractmethod
    def get_state(self, key: str) -> str | None: ...

    @abc.abstractmethod
    def set_state(self, key: str, value: str) -> None: ...

    # -- large state in parts, each written only when it changes ------------------------------
    def get_state_parts(self, key: str) -> dict[str, str]:
        """The parts stored under ``key`` (part name → value), by part name."""
        raw = self.get_state(f"{key}:parts")
        return dict(sorted(json.loads(raw).items())) if raw else {}

    def set_state_parts(
        self, key: str, changed: Mapping[str, str], removed: Iterable[str] = (), clear: bool = False
    ) -> None:
        """Write the ``changed`` parts of ``key`` and drop the ``removed`` ones; ``clear``
        drops all of its parts first. (This default keeps them as one value of the state
        table; the SQL stores write only the parts named.)"""
        with self.transaction():
            parts = {} if clear else Store.get_state_parts(self, key)  # (this default's own)
            for name in removed:
                parts.pop(name, None)
            parts.update(changed)
            self.set_state(f"{key}:parts", json.dumps(parts))

    # -- quarantine: articles that failed, kept with their error (in the state table) --------
    def quarantined(self) -> list[Quarantined]:
        """Articles that failed in a run, oldest first; no run retries them by itself."""
        raw = self.get_state("quarantine")
        return [Quarantined.from_json(d) for d in json.loads(raw)] if raw else []

    def quarantine(self, items: Iterable[Quarantined]) -> None:
        """Add (or replace, by article id) quarantined articles."""
        new = {q.article.id: q for q in items}
        if new:
            with self.transaction():
                kept = [q for q in self.quarantined() if q.article.id not in new]
                self._put_quarantine([*kept, *new.values()])

    def release(self, ids: Iterable[str] | None = None) -> list[Quarantined]:
        """Take articles out of quarantine (all of them, or those of ``ids``) and return them."""
        with self.transaction():
            items = self.quarantined()
            wanted = None if ids is None else set(ids)
            out = [q for q in items if wanted is None or q.article.id in wanted]
            if out:
                self._put_quarantine([q for q in items if q not in out])
        return out

    def _put_quarantine(self, items: list[Quarantined]) -> None:
        self.set_state("quarantine", json.dumps([q.to_json() for q in items], ensure_ascii=False))

    # -- corrections and decision records (SQL stores keep them in tables of their own) -----
    def add_correction(self, correction: Correction) -> None:
        """Log a person's correction (its constraints are in ``correction.data``)."""
        with self.transaction():
            items = [c for c in self.corrections() if c.id != correction.id]
            self._put_corrections([*items, correction])

    def corrections(self) -> list[Correction]:
        """Every correction, undone ones included, oldest first."""
        raw = self.get_state("corrections")
        return [Correction(**d) for d in json.loads(raw)] if raw else []

    def mark_undone(self, correction_id: str, at: str, by: str) -> None:
        """Mark a correction undone (it stays in the log)."""
        with self.transaction():
            items = self.corrections()
            out = [
                Correction(c.id, c.action, c.at, c.author, c.data, at, by) if c.id == correction_id else c
                for c in items
            ]
            self._put_corrections(out)

    def _put_corrections(self, items: list[Correction]) -> None:
        self.set_state("corrections", json.dumps([c.__dict__ for c in items], ensure_ascii=False))

    def put_decisions(self, records: dict[str, dict[str, object]]) -> None:
        """Store (replacing) the decision record of each article id."""
        with self.transaction():
            for aid, rec in records.items():
                self.set_state(f"decision:{aid}", json.dumps(rec, ensure_ascii=False))

    def get_decision(self, article_id: str) -> dict[str, object] | None:
        """The record of the decision that assigned ``article_id``, when one was stored."""
        raw = self.get_state(f"decision:{article_id}")
        return json.loads(raw) if raw else None

    # -- search --------------------------------------------------------------------------------
    def search_events(self, query: str, limit: int = 20) -> list[Event]:
        """Live events whose title, headline, summary or keyphrases contain ``query``
        (case-insensitive), newest first. This default reads every event; stores override it
        with a query of their own."""
        needle = query.strip().casefold()
        if not needle:
            return []
        found = [
            e for e in self.iter_events()
            if needle in "\n".join([e.title, e.headline, e.summary, *e.keyphrases]).casefold()
        ]
        found.sort(key=lambda e: e.id)
        found.sort(key=lambda e: e.created, reverse=True)
        return found[:limit]
