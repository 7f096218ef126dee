"""The default store: one SQLite file (or memory), WAL, one writer at a time.

Every write method is atomic on its own; :meth:`SQLiteStore.transaction` groups several writes
into one commit. Writes take the write lock up front (``BEGIN IMMEDIATE``) so a second writer
waits for it (``busy_timeout``) instead of failing half-way with "database is locked".

One connection per store, shared safely between threads (a web server's pool) by a re-entrant
lock held around every call and for the whole of an explicit transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StoreError
from ..model import Assignment, Event, Merge, Processed, Story
from .base import Store
from .codec import (
    ARTICLE_COLUMNS,
    article_row,
    assignment_from_row,
    dumps,
    event_from_json,
    event_to_json,
    processed_from_row,
    story_from_json,
    story_to_json,
)
from .migrations import migrate

__all__ = ["SQLiteStore"]

log = logging.getLogger(__name__)

_CHUNK = 500  # at most this many bound parameters per query
_PAGE = 1000  # rows fetched per page by the iterators
_BEGIN_RETRIES = 5


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the store -----------------------------------------------------------------------------------
class SQLiteStore(Store):
    """SQLite implementation of :class:`~storyline.store.base.Store`.

    ``path`` is a file (created with its parent folders if missing) or ``":memory:"``.
    ``timeout`` is how long (seconds) a writer waits for another one to finish.

    >>> from storyline.model import Event
    >>> with SQLiteStore(":memory:") as store:
    ...     store.put_event(Event(id="ev-1", article_ids=["a"]))
    ...     store.get_event("ev-1").article_ids
    ['a']
    """

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.memory = self.path in ("", ":memory:")
        self.url = "sqlite://" if self.memory else f"sqlite:///{self.path}"
        self.timeout = timeout
        self._lock = threading.RLock()
        self._depth = 0
        try:
            if not self.memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                ":memory:" if self.memory else self.path,
                isolation_level=None, check_same_thread=False, timeout=timeout,
            )  # fmt: skip
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.create_function("sl_fold", 1, _fold, deterministic=True)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if not self.memory:
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            migrate(self._conn, self.transaction, where=self.url)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"cannot open SQLite store {self.path!r}: {exc}") from exc
        except StoreError:
            self._conn.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _begin(self) -> None:
        for attempt in range(_BEGIN_RETRIES):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if attempt == _BEGIN_RETRIES - 1:
                    raise StoreError(
                        f"{self.url} is locked by another writer (waited {self.timeout:g}s "
                        f"{_BEGIN_RETRIES} times)"
                    ) from exc
                log.warning("%s is locked, retrying (%d)", self.url, attempt + 1)
                time.sleep(0.05 * 2**attempt)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit; nested blocks are savepoints inside the outer one.

        An exception rolls back the block it leaves (a nested block only its own writes).
        """
        with self._lock:
            if self._depth:
                name = f"sl_{self._depth}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self._conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    # -- articles ----------------------------------------------------------------------------
    def add_article(self, item: Processed) -> bool:
        with self.transaction():
            known = self._one("SELECT hash FROM articles WHERE id = ?", (item.id,))
            if known is not None:
                if known["hash"] != item.article.hash:
                    log.warning(
                        "article %r is already stored with other content; kept the stored one",
                        item.id,
                    )
                return False
            self._conn.execute(
                f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}, ingested_at) "
                f"VALUES ({', '.join('?' * (len(ARTICLE_COLUMNS) + 1))})",
                (*article_row(item), _now()),
            )
            return True

    def has_article(self, article_id: str) -> bool:
        return self._one("SELECT 1 FROM articles WHERE id = ?", (article_id,)) is not None

    def get_article(self, article_id: str) -> Processed | None:
        row = self._one("SELECT * FROM articles WHERE id = ?", (article_id,))
        return None if row is None else processed_from_row(row)

    def iter_articles(self, ids: Iterable[str] | None = None) -> Iterator[Processed]:
        if ids is None:
            last = 0
            while rows := self._all(
                "SELECT * FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", (last, _PAGE)
            ):
                yield from map(processed_from_row, rows)
                last = rows[-1]["seq"]
            return
        wanted = list(dict.fromkeys(ids))
        found: list[sqlite3.Row] = []
        for chunk in _chunks(wanted, _CHUNK):
            found += self._all(
                f"SELECT * FROM articles WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
        found.sort(key=lambda r: r["seq"])
        yield from map(processed_from_row, found)

    def count_articles(self) -> int:
        row = self._one("SELECT COUNT(*) FROM articles")
        return int(row[0]) if row else 0

    # -- vectors -----------------------------------------------------------------------------
    def get_vectors(self, hashes: Iterable[str], kind: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for chunk in _chunks(list(dict.fromkeys(hashes)), _CHUNK - 1):
            rows = self._all(
                "SELECT hash, shape, data FROM vectors WHERE kind = ? "
                f"AND hash IN ({', '.join('?' * len(chunk))})",
                (kind, *chunk),
            )
            for row in rows:
                shape = tuple(json.loads(row["shape"]))
                out[row["hash"]] = (
                    np.frombuffer(row["data"], dtype=np.float32).reshape(shape).copy()
                )
        return out

    def put_vectors(self, items: dict[str, np.ndarray], kind: str) -> None:
        rows = []
        for key, value in items.items():
            arr = np.ascontiguousarray(value, dtype=np.float32)
            rows.append((key, kind, dumps(list(arr.shape)), arr.tobytes()))
        if rows:
            with self.transaction():
                self._conn.executemany(
                    "INSERT OR IGNORE INTO vectors (hash, kind, shape, data) VALUES (?, ?, ?, ?)",
                    rows,
                )

    # -- assignments -------------------------------------------------------------------------
    def put_assignments(self, items: Iterable[Assignment]) -> None:
        at = _now()
        rows = [(a.article_id, a.event, a.story, a.family, a.lang, float(a.score), at)
                for a in items]  # fmt: skip
        if rows:
            with self.transaction():
                self._conn.executemany(
                    "INSERT OR REPLACE INTO assignments "
                    "(article_id, event, story, family, lang, score, at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

    def get_assignment(self, article_id: str) -> Assignment | None:
        row = self._one("SELECT * FROM assignments WHERE article_id = ?", (article_id,))
        return None if row is None else assignment_from_row(row)

    def iter_assignments(self) -> Iterator[Assignment]:
        """Assignments of stored articles in insertion order, then any of unknown articles."""
        last = 0
        while rows := self._all(
            "SELECT s.*, a.seq AS seq FROM assignments s JOIN articles a ON a.id = s.article_id "
            "WHERE a.seq > ? ORDER BY a.seq LIMIT ?",
            (last, _PAGE),
        ):
            yield from map(assignment_from_row, rows)
            last = rows[-1]["seq"]
        last = 0
        while rows := self._all(
            "SELECT s.*, s.rowid AS rid FROM assignments s WHERE s.rowid > ? AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.id = s.article_id) ORDER BY s.rowid LIMIT ?",
            (last, _PAGE),
        ):
            yield from map(assignment_from_row, rows)
            last = rows[-1]["rid"]

    # -- events and stories ------------------------------------------------------------------
    def _put(self, table: str, key: str, data: str, created: str) -> None:
        now = _now()
        with self.transaction():
            self._conn.execute(
                f"INSERT INTO {table} (id, data, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated = excluded.updated, "
                f"created = CASE WHEN ? != '' THEN excluded.created ELSE {table}.created END",
                (key, data, created or now, now, created),
            )

    def _iter(self, table: str) -> Iterator[str]:
        last: tuple[str, str] = ("", "")
        while rows := self._all(
            f"SELECT id, data, created FROM {table} WHERE (created, id) > (?, ?) "
            "ORDER BY created, id LIMIT ?",
            (*last, _PAGE),
        ):
            for row in rows:
                yield row["data"]
            last = (rows[-1]["created"], rows[-1]["id"])

    def put_event(self, event: Event) -> None:
        self._put("events", event.id, event_to_json(event), event.created)

    def get_event(self, event_id: str) -> Event | None:
        row = self._one("SELECT data FROM events WHERE id = ?", (self.resolve("event", event_id),))
        return None if row is None else event_from_json(row["data"])

    def delete_event(self, event_id: str) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM events WHERE id = ?", (event_id,))

    def iter_events(self) -> Iterator[Event]:
        """Live events, oldest first (by ``created``, then id)."""
        return map(event_from_json, self._iter("events"))

    def put_story(self, story: Story) -> None:
        self._put("stories", story.id, story_to_json(story), "")

    def get_story(self, story_id: str) -> Story | None:
        row = self._one("SELECT data FROM stories WHERE id = ?", (self.resolve("story", story_id),))
        return None if row is None else story_from_json(row["data"])

    def delete_story(self, story_id: str) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM stories WHERE id = ?", (story_id,))

    def iter_stories(self) -> Iterator[Story]:
        """Live stories in the order they were first stored."""
        return map(story_from_json, self._iter("stories"))

    # -- merges ------------------------------------------------------------------------------
    def record_merge(self, merge: Merge) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT INTO merges (kind, loser, winner, score, at, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (merge.kind, merge.loser, merge.winner, float(merge.score), merge.at,
                 merge.reason),
            )  # fmt: skip

    def merges(self, kind: str | None = None) -> list[Merge]:
        where, params = ("WHERE kind = ?", (kind,)) if kind is not None else ("", ())
        rows = self._all(
            f"SELECT kind, loser, winner, score, at, reason FROM merges {where} ORDER BY seq",
            params,
        )
        return [Merge(**dict(r)) for r in rows]

    def resolve(self, kind: str, some_id: str) -> str:
        """Follow the merge log from ``some_id`` (one indexed lookup per hop)."""
        seen: set[str] = set()
        while some_id not in seen:
            seen.add(some_id)
            row = self._one(
                "SELECT winner FROM merges WHERE kind = ? AND loser = ? ORDER BY seq DESC LIMIT 1",
                (kind, some_id),
            )
            if row is None:
                break
            some_id = row["winner"]
        return some_id

    # -- state -------------------------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        row = self._one("SELECT value FROM state WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_state(self, key: str, value: str) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value)
            )

    # -- extras (SQLite only; not part of the Store contract) --------------------------------
    def count_events(self) -> int:
        """Number of live events."""
        row = self._one("SELECT COUNT(*) FROM events")
        return int(row[0]) if row else 0

    def events_for_articles(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Article id → the id of its event today (assignments followed through merges).

        Articles without an assignment are left out.
        """
        out: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(article_ids)), _CHUNK):
            rows = self._all(
                "SELECT article_id, event FROM assignments "
                f"WHERE article_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update((r["article_id"], r["event"]) for r in rows)
        if out:
            winners = {m.loser: m.winner for m in self.merges("event")}
            for article_id, event_id in out.items():
                seen: set[str] = set()
                while event_id in winners and event_id not in seen:
                    seen.add(event_id)
                    event_id = winners[event_id]
                out[article_id] = event_id
        return out

    def search_events(self, query: str, limit: int = 20) -> list[Event]:
        """Live events whose title, headline or summary contain ``query`` (case-insensitive,
        any script), newest first."""
        needle = _fold(query.strip())
        if not needle:
            return []
        rows = self._all(
            "SELECT data FROM events WHERE instr(sl_fold("
            "COALESCE(json_extract(data, '$.title'), '') || char(10) || "
            "COALESCE(json_extract(data, '$.headline'), '') || char(10) || "
            "COALESCE(json_extract(data, '$.summary'), '')), ?) > 0 "
            "ORDER BY created DESC, id LIMIT ?",
            (needle, int(limit)),
        )
        return [event_from_json(r["data"]) for r in rows]

    def articles_of_event(self, event_id: str) -> list[Processed]:
        """The stored articles of an event (merged ids followed), in insertion order;
        an empty list when there is no such event."""
        event = self.get_event(event_id)
        return [] if event is None else list(self.iter_articles(event.article_ids))


def _fold(value: str | None) -> str:
    return "" if value is None else value.casefold()
