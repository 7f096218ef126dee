"""Postgres + pgvector store, for several processes or machines sharing one store.

Same contract and semantics as :class:`~storyline.store.sqlite.SQLiteStore` (the shared
contract tests run against both): rows go through the same codecs, vectors are float32 blobs
with their shape (exact round-trip of 1-d and 2-d arrays), and 1-d ``doc`` / ``centroid``
vectors are also written to a pgvector ``vector`` column when the server has the ``vector``
extension (nothing reads that column yet; without the extension the store works the same).

One connection per store (autocommit; :meth:`~PostgresStore.transaction` opens a real
transaction, nested blocks are savepoints), shared between threads by a re-entrant lock.
Needs the ``postgres`` extra (``pip install 'storyline[postgres]'``); without it the module
still imports and :class:`PostgresStore` raises :class:`~storyline.errors.MissingExtra`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

try:  # the ``postgres`` extra; without it this module imports, PostgresStore() raises
    import psycopg
    from pgvector.psycopg import register_vector
    from psycopg.rows import dict_row
except ImportError as exc:  # pragma: no cover - depends on the environment
    _MISSING: ImportError | None = exc
else:
    _MISSING = None

from ..errors import MissingExtra, StoreError
from ..model import Assignment, Event, Processed
from .codec import ARTICLE_COLUMNS, article_row, assignment_from_row, event_from_json, event_to_json
from .postgres_schema import ensure_schema
from .sqlbase import SQLStore, chunks, now

__all__ = ["PostgresStore"]

log = logging.getLogger(__name__)

WRITER_LOCK_KEY = 0x5707_1E  # pg_advisory_lock key of storyline's single writer

_ANY = 10_000  # at most this many ids per ``= ANY(%s)`` query
ANN_KINDS = frozenset({"doc", "centroid"})  # 1-d kinds also kept in the ``vector`` column
_TABLES = (
    "articles", "vectors", "assignments", "events", "stories", "merges", "state", "state_parts",
    "corrections", "decisions",
)


def _no_nul(value: Any) -> Any:
    """Postgres text cannot hold NUL characters: they become U+FFFD."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


class PostgresStore(SQLStore):
    """Postgres implementation of :class:`~storyline.store.base.Store`.

    ``url`` is a libpq URL (``postgresql://user@host/db``; ``postgresql+psycopg://`` works
    too). ``timeout`` (seconds) bounds connecting and waiting for another writer's row locks.
    The database must exist; the tables are created (versioned migrations) on first open.
    """

    _P = "%s"
    _key = staticmethod(_no_nul)
    _TS = "::timestamptz"  # ingested_at is a timestamptz column

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        if _MISSING is not None:
            raise MissingExtra("psycopg", "postgres") from _MISSING
        self.url = url
        self.timeout = timeout
        self._lock = threading.RLock()
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        try:
            self._conn: psycopg.Connection[dict[str, Any]] = psycopg.connect(
                conninfo, autocommit=True, row_factory=dict_row,
                connect_timeout=max(1, int(timeout)),
            )  # fmt: skip
        except psycopg.Error as exc:
            raise StoreError(f"cannot open Postgres store {self._safe_url}: {exc}") from exc
        try:
            self._conn.execute(f"SET lock_timeout = {int(timeout * 1000)}")
            self.ann = ensure_schema(self._conn, self.transaction, where=self._safe_url)
            if self.ann:
                register_vector(self._conn)
        except (psycopg.Error, StoreError) as exc:
            self._conn.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open Postgres store {self._safe_url}: {exc}") from exc

    @property
    def _safe_url(self) -> str:
        """The URL without its password, for messages."""
        head, sep, tail = self.url.partition("@")
        if not sep or "://" not in head:
            return self.url
        scheme, _, userinfo = head.partition("://")
        return f"{scheme}://{userinfo.split(':', 1)[0]}@{tail}"

    def __repr__(self) -> str:
        return f"PostgresStore({self._safe_url!r})"

    # -- lifecycle ---------------------------------------------------------------------------
    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """A session-level advisory lock on a separate connection, held for one run."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (WRITER_LOCK_KEY,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (WRITER_LOCK_KEY,))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit; nested blocks are savepoints inside the outer one.

        An exception rolls back the block it leaves (a nested block only its own writes).
        """
        with self._lock:
            try:
                with self._conn.transaction():
                    yield
            except psycopg.errors.LockNotAvailable as exc:
                raise StoreError(
                    f"{self._safe_url}: rows are locked by another writer "
                    f"(waited {self.timeout:g}s)"
                ) from exc

    def reset(self) -> None:
        """Empty every table (for tests on a scratch database); the schema stays."""
        with self._lock:
            self._conn.execute(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY")

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with self.transaction(), self._conn.cursor() as cur:
                cur.executemany(sql, rows)

    # -- articles ----------------------------------------------------------------------------
    def add_article(self, item: Processed) -> bool:
        with self.transaction():
            row = self._one(
                f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(ARTICLE_COLUMNS))}) "
                "ON CONFLICT (id) DO NOTHING RETURNING seq",
                [_no_nul(v) for v in article_row(item)],
            )
            if row is not None:
                return True
            known = self._one("SELECT hash FROM articles WHERE id = %s", (_no_nul(item.id),))
            if known is not None and known["hash"] != item.article.hash:
                log.warning(
                    "article %r is already stored with other content; kept the stored one",
                    item.id,
                )
            return False

    def _article_rows(self, ids: list[str]) -> list[Any]:
        found: list[dict[str, Any]] = []
        for chunk in chunks(ids, _ANY):
            found += self._all("SELECT * FROM articles WHERE id = ANY(%s)", (list(chunk),))
        return found

    # -- vectors -----------------------------------------------------------------------------
    def get_vectors(self, hashes: Iterable[str], kind: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for chunk in chunks(list(dict.fromkeys(hashes)), _ANY):
            rows = self._all(
                "SELECT hash, shape, data FROM vectors WHERE kind = %s AND hash = ANY(%s)",
                (kind, list(chunk)),
            )
            for row in rows:
                arr = np.frombuffer(row["data"], dtype=np.float32)
                out[row["hash"]] = arr.reshape(tuple(row["shape"])).copy()
        return out

    def get_assignments(self, article_ids: Iterable[str]) -> dict[str, Assignment]:
        out: dict[str, Assignment] = {}
        for chunk in chunks(list(dict.fromkeys(article_ids)), _ANY):
            rows = self._all("SELECT * FROM assignments WHERE article_id = ANY(%s)", (list(chunk),))
            out.update((a.article_id, a) for a in map(assignment_from_row, rows))
        return out

    def vector_keys(self, hashes: Iterable[str], kind: str) -> set[str]:
        out: set[str] = set()
        for chunk in chunks(list(dict.fromkeys(hashes)), _ANY):
            rows = self._all("SELECT hash FROM vectors WHERE kind = %s AND hash = ANY(%s)", (kind, list(chunk)))
            out.update(row["hash"] for row in rows)
        return out

    def put_vectors(self, items: dict[str, np.ndarray], kind: str) -> None:
        rows: list[tuple[Any, ...]] = []
        for key, value in items.items():
            arr = np.ascontiguousarray(value, dtype=np.float32)
            row: tuple[Any, ...] = (key, kind, list(arr.shape), arr.tobytes())
            if self.ann:
                usable = kind in ANN_KINDS and arr.ndim == 1 and arr.size
                row += (arr if usable and np.isfinite(arr).all() else None,)
            rows.append(row)
        columns = "hash, kind, shape, data" + (", embedding" if self.ann else "")
        values = "%s, %s, %s::integer[], %s" + (", %s" if self.ann else "")
        self._write_many(
            f"INSERT INTO vectors ({columns}) VALUES ({values}) "
            "ON CONFLICT (hash, kind) DO NOTHING",
            rows,
        )

    # -- assignments -------------------------------------------------------------------------
    def put_assignments(self, items: Iterable[Assignment]) -> None:
        at = now()
        rows = [(a.article_id, a.event, a.story, a.family, a.lang, float(a.score), at)
                for a in items]  # fmt: skip
        self._write_many(
            "INSERT INTO assignments (article_id, event, story, family, lang, score, at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (article_id) DO UPDATE SET "
            "event = excluded.event, story = excluded.story, family = excluded.family, "
            "lang = excluded.lang, score = excluded.score, at = excluded.at, seq = DEFAULT",
            rows,
        )

    def iter_assignments(self) -> Iterator[Assignment]:
        """Assignments of stored articles in insertion order, then any of unknown articles."""
        yield from map(assignment_from_row, self._pages(
            "SELECT s.*, a.seq AS aseq FROM assignments s JOIN articles a ON a.id = s.article_id "
            "WHERE a.seq > %s ORDER BY a.seq LIMIT %s", "aseq",
        ))
        yield from map(assignment_from_row, self._pages(
            "SELECT s.* FROM assignments s WHERE s.seq > %s AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.id = s.article_id) ORDER BY s.seq LIMIT %s", "seq",
        ))

    # -- events and stories ------------------------------------------------------------------
    def _put(self, table: str, key: str, data: str, created: str, search: str = "") -> None:
        at = now()
        self._write(
            f"INSERT INTO {table} (id, data, search, created, updated) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET data = excluded.data, "
            "search = excluded.search, updated = excluded.updated, "
            f"created = CASE WHEN %s <> '' THEN excluded.created ELSE {table}.created END",
            (key, data, search, created or at, at, created),
        )

    def put_event(self, event: Event) -> None:
        search = f"{event.title}\n{event.headline}\n{event.summary}".casefold()
        self._put("events", event.id, event_to_json(event), event.created, _no_nul(search))

    # -- state -------------------------------------------------------------------------------
    def set_state(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO state (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- extras (not part of the Store contract) -------------------------------------------
    def _assigned_events(self, article_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in chunks(article_ids, _ANY):
            rows = self._all(
                "SELECT article_id, event FROM assignments WHERE article_id = ANY(%s)",
                (list(chunk),),
            )
            out.update((r["article_id"], r["event"]) for r in rows)
        return out

    def search_events(self, query: str, limit: int = 20) -> list[Event]:
        """Live events whose title, headline or summary contain ``query`` (case-insensitive,
        any script), newest first."""
        needle = _no_nul(query.strip().casefold())
        if not needle:
            return []
        rows = self._all(
            "SELECT data FROM events WHERE strpos(search, %s) > 0 "
            "ORDER BY created DESC, id LIMIT %s",
            (needle, int(limit)),
        )
        return [event_from_json(r["data"]) for r in rows]
