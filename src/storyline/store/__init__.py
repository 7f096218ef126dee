"""Stores: where storyline keeps articles, vectors, assignments, events, stories and merges.

:func:`open_store` picks the implementation from a URL:

- ``sqlite:///path/x.db``, or a plain path (``x.db``, a :class:`~pathlib.Path`): a SQLite file;
  ``sqlite:////abs/x.db`` is an absolute path;
- ``:memory:``, ``sqlite://`` or ``sqlite:///:memory:``: an in-memory SQLite store;
- ``postgresql://…`` (or ``postgres://…``): Postgres + pgvector (the ``postgres`` extra).

>>> with open_store(":memory:") as store:
...     store.count_articles()
0
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ..errors import MissingExtra, StoreError
from .base import Store
from .sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store", "open_store"]

_MEMORY = {":memory:", "sqlite://", "sqlite:///:memory:", "sqlite:///"}
_POSTGRES_DEPS = ("psycopg", "pgvector", "storyline.store.postgres")


def open_store(url: str | Path, **options: Any) -> Store:
    """Open (creating if needed) the store at ``url``; ``options`` go to the implementation.

    Raises :class:`~storyline.errors.StoreError` for an unknown scheme or a store that cannot
    be opened, :class:`~storyline.errors.MissingExtra` when Postgres support is not installed.
    """
    if isinstance(url, Path):
        return SQLiteStore(url, **options)
    text = url.strip()
    if text in _MEMORY:
        return SQLiteStore(":memory:", **options)
    if text.startswith("sqlite:///"):
        return SQLiteStore(text[len("sqlite:///") :], **options)
    if text.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return _open_postgres(text, **options)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StoreError(
            f"unknown store URL scheme {scheme!r} in {url!r}; use sqlite:///path.db, a file "
            "path, :memory:, or postgresql://…"
        )
    if not text:
        raise StoreError("empty store URL; use sqlite:///path.db, a file path or :memory:")
    return SQLiteStore(text, **options)


def _open_postgres(url: str, **options: Any) -> Store:
    try:
        module = importlib.import_module("storyline.store.postgres")
    except ModuleNotFoundError as exc:
        if (
            exc.name
            and exc.name.split(".")[0] in ("psycopg", "pgvector")
            or (exc.name == "storyline.store.postgres")
        ):
            raise MissingExtra("psycopg", "postgres") from exc
        raise
    store: Store = module.PostgresStore(url, **options)
    return store
