"""What the SQLite and Postgres stores share: the same tables, codecs and most queries.

:class:`SQLStore` holds every method whose logic is the same in both stores; the statements
are written once with the driver's parameter marker (:attr:`SQLStore._P`: ``?`` for sqlite3,
``%s`` for psycopg). What really differs (connecting, transactions, upserts, vectors, search)
stays in :mod:`.sqlite` and :mod:`.postgres`.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from ..model import Assignment, Correction, Event, Merge, Processed, Story
from .base import Store
from .codec import (
    assignment_from_row,
    event_from_json,
    processed_from_row,
    story_from_json,
    story_to_json,
)

__all__ = ["PAGE", "SQLStore", "chunks", "now"]

PAGE = 1000  # rows fetched per page by the iterators


def now() -> str:
    """The current UTC time as an ISO string (microseconds), as stored in the tables."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SQLStore(Store):
    """The part of :class:`~storyline.store.base.Store` that SQLite and Postgres share.

    A subclass sets ``_P``, opens ``_conn`` and ``_lock`` (a re-entrant lock held around every
    call), and implements the abstract methods below and those of the contract it does not
    inherit from here.
    """

    _P: ClassVar[str]  # the driver's parameter marker
    _conn: Any
    _lock: threading.RLock

    # -- hooks -------------------------------------------------------------------------------
    @staticmethod
    def _key(value: str) -> str:
        """An id as it is looked up in the ``articles`` table."""
        return value

    @abc.abstractmethod
    def _put(self, table: str, key: str, data: str, created: str) -> None:
        """Insert or update one row of ``events`` / ``stories``."""

    @abc.abstractmethod
    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``sql`` once per row of ``rows`` (nothing when empty), in one transaction."""

    @abc.abstractmethod
    def _article_rows(self, ids: list[str]) -> list[Any]:
        """The ``articles`` rows of ``ids`` (distinct), in any order."""

    @abc.abstractmethod
    def _assigned_events(self, article_ids: list[str]) -> dict[str, str]:
        """Article id → its assigned event id as stored (before following merges)."""

    # -- lifecycle and plumbing --------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            rows: list[Any] = self._conn.execute(sql, params).fetchall()
            return rows

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.transaction():
            self._conn.execute(sql, params)

    def _count(self, table: str) -> int:
        row = self._one(f"SELECT COUNT(*) AS n FROM {table}")
        return int(row["n"]) if row else 0

    # -- articles ----------------------------------------------------------------------------
    def has_article(self, article_id: str) -> bool:
        row = self._one(f"SELECT 1 FROM articles WHERE id = {self._P}", (self._key(article_id),))
        return row is not None

    def get_article(self, article_id: str) -> Processed | None:
        row = self._one(f"SELECT * FROM articles WHERE id = {self._P}", (self._key(article_id),))
        return None if row is None else processed_from_row(row)

    def _pages(self, sql: str, key: str) -> Iterator[Any]:
        """Rows of ``sql`` page by page (keyset pagination): ``sql`` takes the last ``key``
        seen and the page size as its two parameters, and orders by ``key``."""
        last = 0
        while rows := self._all(sql, (last, PAGE)):
            yield from rows
            last = rows[-1][key]

    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Processed]:
        if ids is None:
            P = self._P
            yield from map(processed_from_row, self._pages(
                f"SELECT * FROM articles WHERE seq > {P} ORDER BY seq LIMIT {P}", "seq"
            ))
            return
        found = self._article_rows(list(dict.fromkeys(ids)))
        found.sort(key=lambda r: r["seq"])
        yield from map(processed_from_row, found)

    def count_articles(self) -> int:
        return self._count("articles")

    # -- assignments -------------------------------------------------------------------------
    def get_assignment(self, article_id: str) -> Assignment | None:
        row = self._one(f"SELECT * FROM assignments WHERE article_id = {self._P}", (article_id,))
        return None if row is None else assignment_from_row(row)

    # -- events and stories ------------------------------------------------------------------
    def _iter(self, table: str) -> Iterator[str]:
        """The ``data`` of every row of ``table``, by ``created`` then id, a page at a time."""
        p = self._P
        last: tuple[str, str] = ("", "")
        while rows := self._all(
            f"SELECT id, data, created FROM {table} WHERE (created, id) > ({p}, {p}) "
            f"ORDER BY created, id LIMIT {p}",
            (*last, PAGE),
        ):
            for row in rows:
                yield row["data"]
            last = (rows[-1]["created"], rows[-1]["id"])

    def _data(self, table: str, kind: str, some_id: str) -> Any | None:
        """The ``data`` of the live row that ``some_id`` (merges followed) names, if any."""
        row = self._one(
            f"SELECT data FROM {table} WHERE id = {self._P}", (self.resolve(kind, some_id),)
        )
        return None if row is None else row["data"]

    def get_event(self, event_id: str) -> Event | None:
        data = self._data("events", "event", event_id)
        return None if data is None else event_from_json(data)

    def delete_event(self, event_id: str) -> None:
        self._write(f"DELETE FROM events WHERE id = {self._P}", (event_id,))

    def iter_events(self) -> Iterator[Event]:
        """Live events, oldest first (by ``created``, then id)."""
        return map(event_from_json, self._iter("events"))

    def put_story(self, story: Story) -> None:
        self._put("stories", story.id, story_to_json(story), "")

    def get_story(self, story_id: str) -> Story | None:
        data = self._data("stories", "story", story_id)
        return None if data is None else story_from_json(data)

    def delete_story(self, story_id: str) -> None:
        self._write(f"DELETE FROM stories WHERE id = {self._P}", (story_id,))

    def iter_stories(self) -> Iterator[Story]:
        """Live stories in the order they were first stored."""
        return map(story_from_json, self._iter("stories"))

    # -- merges ------------------------------------------------------------------------------
    def record_merge(self, merge: Merge) -> None:
        p = self._P
        self._write(
            "INSERT INTO merges (kind, loser, winner, score, at, reason) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            (merge.kind, merge.loser, merge.winner, float(merge.score), merge.at, merge.reason),
        )

    def merges(self, kind: str | None = None) -> list[Merge]:
        where, params = (f"WHERE kind = {self._P}", (kind,)) if kind is not None else ("", ())
        rows = self._all(
            f"SELECT kind, loser, winner, score, at, reason FROM merges {where} ORDER BY seq",
            params,
        )
        return [Merge(**dict(r)) for r in rows]

    def resolve(self, kind: str, some_id: str) -> str:
        """Follow the merge log from ``some_id`` (one indexed lookup per hop)."""
        p = self._P
        seen: set[str] = set()
        while some_id not in seen:
            seen.add(some_id)
            row = self._one(
                f"SELECT winner FROM merges WHERE kind = {p} AND loser = {p} "
                "ORDER BY seq DESC LIMIT 1",
                (kind, some_id),
            )
            if row is None:
                break
            some_id = row["winner"]
        return some_id

    # -- corrections and decision records ----------------------------------------------------
    def add_correction(self, correction: Correction) -> None:
        p = self._P
        c = correction
        self._write(
            "INSERT INTO corrections (id, action, author, at, data, undone_at, undone_by) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
            (c.id, c.action, c.author, c.at, json.dumps(c.data, ensure_ascii=False), c.undone_at, c.undone_by),
        )

    def corrections(self) -> list[Correction]:
        rows = self._all(
            "SELECT id, action, author, at, data, undone_at, undone_by FROM corrections ORDER BY seq"
        )
        return [
            Correction(r["id"], r["action"], r["at"], r["author"], json.loads(r["data"]),
                       r["undone_at"], r["undone_by"])
            for r in rows
        ]  # fmt: skip

    def mark_undone(self, correction_id: str, at: str, by: str) -> None:
        p = self._P
        self._write(
            f"UPDATE corrections SET undone_at = {p}, undone_by = {p} WHERE id = {p}",
            (at, by, correction_id),
        )

    def put_decisions(self, records: dict[str, dict[str, object]]) -> None:
        p = self._P
        at = now()
        with self.transaction():
            for aid, rec in records.items():
                self._conn.execute(
                    f"INSERT INTO decisions (article_id, data, at) VALUES ({p}, {p}, {p}) "
                    "ON CONFLICT (article_id) DO UPDATE SET data = excluded.data, at = excluded.at",
                    (aid, json.dumps(rec, ensure_ascii=False), at),
                )

    def get_decision(self, article_id: str) -> dict[str, object] | None:
        row = self._one(f"SELECT data FROM decisions WHERE article_id = {self._P}", (article_id,))
        return None if row is None else dict(json.loads(row["data"]))

    # -- state -------------------------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        row = self._one(f"SELECT value FROM state WHERE key = {self._P}", (key,))
        return None if row is None else str(row["value"])

    def get_state_parts(self, key: str) -> dict[str, str]:
        rows = self._all(
            f"SELECT part, value FROM state_parts WHERE key = {self._P} ORDER BY part", (key,)
        )
        return {str(r["part"]): str(r["value"]) for r in rows}

    def set_state_parts(
        self, key: str, changed: Mapping[str, str], removed: Iterable[str] = (), clear: bool = False
    ) -> None:
        P = self._P
        with self.transaction():
            if clear:
                self._write(f"DELETE FROM state_parts WHERE key = {P}", (key,))
            self._write_many(
                f"DELETE FROM state_parts WHERE key = {P} AND part = {P}",
                [(key, name) for name in removed],
            )
            self._write_many(
                f"INSERT INTO state_parts (key, part, value) VALUES ({P}, {P}, {P}) "
                "ON CONFLICT (key, part) DO UPDATE SET value = excluded.value",
                [(key, name, value) for name, value in changed.items()],
            )

    # -- extras (both stores; not part of the Store contract) --------------------------------
    def count_events(self) -> int:
        """Number of live events."""
        return self._count("events")

    def events_for_articles(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Article id → the id of its event today (assignments followed through merges).

        Articles without an assignment are left out.
        """
        out = self._assigned_events(list(dict.fromkeys(article_ids)))
        if out:
            winners = {m.loser: m.winner for m in self.merges("event")}
            for article_id, event_id in out.items():
                seen: set[str] = set()
                while event_id in winners and event_id not in seen:
                    seen.add(event_id)
                    event_id = winners[event_id]
                out[article_id] = event_id
        return out

    _TS = ""  # how a timestamp parameter is cast to compare with ``ingested_at``

    def ingested_since(self, since: str) -> dict[str, str]:
        """Article id -> when it was stored (ISO, UTC), for the articles stored at or after
        ``since`` (an ISO timestamp): what ``storyline follow news`` reports."""
        rows = self._all(
            f"SELECT id, ingested_at FROM articles WHERE ingested_at >= {self._P}{self._TS} ORDER BY seq",
            (since,),
        )
        out = {}
        for r in rows:
            at = r["ingested_at"]
            out[r["id"]] = at.astimezone(dt.UTC).isoformat() if isinstance(at, dt.datetime) else str(at)
        return out

    def articles_of_event(self, event_id: str) -> list[Processed]:
        """The stored articles of an event (merged ids followed), in insertion order;
        an empty list when there is no such event."""
        event = self.get_event(event_id)
        return [] if event is None else list(self.iter_articles(event.article_ids))
