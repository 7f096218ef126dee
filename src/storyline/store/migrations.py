"""Versioned schema migrations of the SQLite store.

Each migration is a numbered list of statements. ``schema_migrations`` records which versions a
database has; opening an older database applies the missing ones (each in its own transaction),
opening a database written by a newer storyline raises :class:`~storyline.errors.StoreError`.

To change the schema, append a ``Migration`` with the next version number; never edit one that
has shipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ..errors import StoreError

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "Migration",
    "check_not_newer",
    "current_version",
    "migrate",
    "run_migrations",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_INITIAL = (
    # ``seq`` gives insertion order; ``id`` is the caller's article id.
    """CREATE TABLE articles (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL,
        title TEXT,
        display_title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        clean_text TEXT NOT NULL,
        given_lang TEXT,
        lang TEXT NOT NULL,
        lang_confidence REAL NOT NULL,
        published TEXT,
        published_precision TEXT NOT NULL DEFAULT 'day',
        event_date TEXT,
        event_date_source TEXT,
        source TEXT,
        url TEXT,
        origin TEXT,
        sentences TEXT NOT NULL DEFAULT '[]',
        entities TEXT NOT NULL DEFAULT '[]',
        ingested_at TEXT NOT NULL
    )""",
    "CREATE INDEX articles_hash ON articles(hash)",
    """CREATE TABLE vectors (
        hash TEXT NOT NULL,
        kind TEXT NOT NULL,
        shape TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (hash, kind)
    )""",
    """CREATE TABLE assignments (
        article_id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        story TEXT NOT NULL,
        family TEXT NOT NULL,
        lang TEXT NOT NULL,
        score REAL NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX assignments_event ON assignments(event)",
    "CREATE INDEX assignments_story ON assignments(story)",
    """CREATE TABLE events (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    "CREATE INDEX events_created ON events(created, id)",
    """CREATE TABLE stories (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    "CREATE INDEX stories_created ON stories(created, id)",
    """CREATE TABLE merges (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        loser TEXT NOT NULL,
        winner TEXT NOT NULL,
        score REAL NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX merges_loser ON merges(kind, loser)",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

# people's corrections (constraints, with time and author) and the record of each decision
_CORRECTIONS = (
    """CREATE TABLE corrections (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        action TEXT NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        undone_at TEXT,
        undone_by TEXT
    )""",
    """CREATE TABLE decisions (
        article_id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
)

# large state kept in parts, each written only when it changes (the story linker's events)
_STATE_PARTS = (
    """CREATE TABLE state_parts (
        key TEXT NOT NULL,
        part TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (key, part)
    )""",
)

MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _INITIAL),
    Migration(2, "corrections and decision records", _CORRECTIONS),
    Migration(3, "state kept in parts", _STATE_PARTS),
]
LATEST_VERSION = MIGRATIONS[-1].version

_BOOKKEEPING = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


def current_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to this database (0 for a new one)."""
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if row is None:
        return 0
    (version,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(version)


def check_not_newer(version: int, migrations: Sequence[Migration], where: str) -> None:
    """Raise :class:`StoreError` when ``version`` is newer than any of ``migrations``."""
    latest = max(m.version for m in migrations)
    if version > latest:
        raise StoreError(
            f"{where} has schema version {version}, newer than this storyline supports "
            f"({latest}); upgrade storyline to open it"
        )


def run_migrations(
    migrations: Sequence[Migration],
    transaction: Callable[[], AbstractContextManager[None]],
    current_version: Callable[[], int],
    prepare: Callable[[], object],
    apply: Callable[[Migration], None],
    where: str,
    logger: logging.Logger = log,
) -> None:
    """Apply the missing ``migrations`` in version order, each in its own ``transaction()``.

    Shared by the SQLite and Postgres stores. Inside each transaction ``prepare()`` takes the
    write lock and creates the bookkeeping table; the version is then read again (another
    process may have applied the migration meanwhile) before ``apply(migration)`` runs it and
    records it.
    """
    check_not_newer(current_version(), migrations, where)
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current_version():
            continue
        with transaction():
            prepare()
            version = current_version()
            check_not_newer(version, migrations, where)
            if migration.version <= version:
                continue
            logger.info(
                "%s: applying migration %d (%s)", where, migration.version, migration.description
            )
            apply(migration)


def migrate(
    conn: sqlite3.Connection,
    transaction: Callable[[], AbstractContextManager[None]],
    where: str = "the database",
) -> int:
    """Bring the schema up to date; returns the version now in place.

    ``transaction`` opens a write transaction on ``conn`` (``BEGIN IMMEDIATE``), so two
    processes opening the same new file do not both apply a migration: the version is read
    again under the write lock.
    """

    def apply(migration: Migration) -> None:
        for statement in migration.statements:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
            (
                migration.version,
                migration.description,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ),
        )

    run_migrations(
        MIGRATIONS,
        transaction,
        current_version=lambda: current_version(conn),
        prepare=lambda: conn.execute(_BOOKKEEPING),
        apply=apply,
        where=where,
    )
    return current_version(conn)
