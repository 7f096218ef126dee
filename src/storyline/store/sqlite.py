"""The default store: one SQLite file (or memory), WAL, one writer at a time.

Every write method is atomic on its own; :meth:`SQLiteStore.transaction` groups several writes
into one commit. Writes take the write lock up front (``BEGIN IMMEDIATE``) so a second writer
waits for it (``busy_timeout``) instead of failing half-way with "database is locked".

One connection per store, shared safely between threads (a web server's pool) by a re-entrant
lock held around every call and for the whole of an explicit transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StoreError
from ..model import Assignment, Event, Processed
from .codec import (
    ARTICLE_COLUMNS,
    article_row,
    assignment_from_row,
    dumps,
    event_from_json,
    event_to_json,
)
from .migrations import migrate
from .sqlbase import SQLStore, chunks, now

__all__ = ["SQLiteStore"]

log = logging.getLogger(__name__)

_CHUNK = 500  # at most this many bound parameters per query
_BEGIN_RETRIES = 5


# -- the store -----------------------------------------------------------------------------------
class SQLiteStore(SQLStore):
    """SQLite implementation of :class:`~storyline.store.base.Store`.

    ``path`` is a file (created with its parent folders if missing) or ``":memory:"``.
    ``timeout`` is how long (seconds) a writer waits for another one to finish.

    >>> from storyline.model import Event
    >>> with SQLiteStore(":memory:") as store:
    ...     store.put_event(Event(id="ev-1", article_ids=["a"]))
    ...     store.get_event("ev-1").article_ids
    ['a']
    """

    _P = "?"

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
    def writer_lock(self) -> Iterator[None]:
        """An exclusive lock file next to the database (``x.db.lock``), for one run."""
        if self.memory:
            yield
            return
        import fcntl

        with open(f"{self.path}.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

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
                (*article_row(item), now()),
            )
            return True

    def _article_rows(self, ids: list[str]) -> list[Any]:
        found: list[sqlite3.Row] = []
        for chunk in chunks(ids, _CHUNK):
            found += self._all(
                f"SELECT * FROM articles WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
        return found

    # -- vectors -----------------------------------------------------------------------------
    def get_vectors(self, hashes: Iterable[str], kind: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for chunk in chunks(list(dict.fromkeys(hashes)), _CHUNK - 1):
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

    def get_assignments(self, article_ids: Iterable[str]) -> dict[str, Assignment]:
        out: dict[str, Assignment] = {}
        for chunk in chunks(list(dict.fromkeys(article_ids)), _CHUNK):
            rows = self._all(
                f"SELECT * FROM assignments WHERE article_id IN ({', '.join('?' * len(chunk))})", chunk
            )
            out.update((a.article_id, a) for a in map(assignment_from_row, rows))
        return out

    def vector_keys(self, hashes: Iterable[str], kind: str) -> set[str]:
        out: set[str] = set()
        for chunk in chunks(list(dict.fromkeys(hashes)), _CHUNK - 1):
            rows = self._all(
                f"SELECT hash FROM vectors WHERE kind = ? AND hash IN ({', '.join('?' * len(chunk))})",
                (kind, *chunk),
            )
            out.update(row["hash"] for row in rows)
        return out

    def put_vectors(self, items: dict[str, np.ndarray], kind: str) -> None:
        rows = []
        for key, value in items.items():
            arr = np.ascontiguousarray(value, dtype=np.float32)
            rows.append((key, kind, dumps(list(arr.shape)), arr.tobytes()))
        self._write_many(
            "INSERT OR IGNORE INTO vectors (hash, kind, shape, data) VALUES (?, ?, ?, ?)", rows
        )

    # -- assignments -------------------------------------------------------------------------
    def put_assignments(self, items: Iterable[Assignment]) -> None:
        at = now()
        rows = [(a.article_id, a.event, a.story, a.family, a.lang, float(a.score), at)
                for a in items]  # fmt: skip
        self._write_many(
            "INSERT OR REPLACE INTO assignments "
            "(article_id, event, story, family, lang, score, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def iter_assignments(self) -> Iterator[Assignment]:
        """Assignments of stored articles in insertion order, then any of unknown articles."""
        yield from map(assignment_from_row, self._pages(
            "SELECT s.*, a.seq AS seq FROM assignments s JOIN articles a ON a.id = s.article_id "
            "WHERE a.seq > ? ORDER BY a.seq LIMIT ?", "seq",
        ))
        yield from map(assignment_from_row, self._pages(
            "SELECT s.*, s.rowid AS rid FROM assignments s WHERE s.rowid > ? AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.id = s.article_id) ORDER BY s.rowid LIMIT ?", "rid",
        ))

    # -- events and stories ------------------------------------------------------------------
    def _put(self, table: str, key: str, data: str, created: str) -> None:
        at = now()
        self._write(
            f"INSERT INTO {table} (id, data, created, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated = excluded.updated, "
            f"created = CASE WHEN ? != '' THEN excluded.created ELSE {table}.created END",
            (key, data, created or at, at, created),
        )

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with self.transaction():
                self._conn.executemany(sql, rows)

    def put_event(self, event: Event) -> None:
        self._put("events", event.id, event_to_json(event), event.created)

    # -- state -------------------------------------------------------------------------------
    def set_state(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))

    # -- extras (not part of the Store contract) -------------------------------------------
    def _assigned_events(self, article_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in chunks(article_ids, _CHUNK):
            rows = self._all(
                "SELECT article_id, event FROM assignments "
                f"WHERE article_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update((r["article_id"], r["event"]) for r in rows)
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


def _fold(value: str | None) -> str:
    return "" if value is None else value.casefold()
