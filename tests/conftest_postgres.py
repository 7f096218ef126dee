"""Where the Postgres store tests find a server (a helper module, not a pytest plugin).

1. ``STORYLINE_TEST_POSTGRES_URL`` names a scratch database: used as it is (every test empties
   it with ``reset()``, so never point it at data you keep);
2. otherwise, when ``pgserver`` is installed (the ``postgres`` extra ships it, with pgvector),
   one throwaway server is started for the whole test session in a temporary folder and
   stopped and deleted when the session ends;
3. otherwise the Postgres tests are skipped with the reason.

``STORYLINE_TEST_POSTGRES=0`` skips them even when a server could be started.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import warnings
from collections.abc import Mapping
from typing import Any

import pytest

__all__ = ["postgres_url"]

_server: Any = None
_THROWAWAY = ("fsync", "synchronous_commit", "full_page_writes")


def _start_pgserver() -> str:
    global _server
    if _server is None:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver

            datadir = tempfile.mkdtemp(prefix="storyline-pg-")
            _server = pgserver.get_server(datadir, cleanup_mode="delete")
        import psycopg

        with psycopg.connect(_server.get_uri(), autocommit=True) as conn:
            for setting in _THROWAWAY:  # no durability needed for a scratch server
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
    return str(_server.get_uri())


def postgres_url(environ: Mapping[str, str] = os.environ) -> str:
    """The URL of a scratch Postgres database for the store tests, or ``pytest.skip``."""
    url = environ.get("STORYLINE_TEST_POSTGRES_URL")
    if url:
        return url
    if environ.get("STORYLINE_TEST_POSTGRES") == "0":
        pytest.skip("Postgres store: disabled by STORYLINE_TEST_POSTGRES=0")
    if importlib.util.find_spec("pgserver") is None or importlib.util.find_spec("psycopg") is None:
        pytest.skip(
            "Postgres store: install the extra (pip install 'storyline[postgres]') or set "
            "STORYLINE_TEST_POSTGRES_URL to a scratch database (see .ci/postgres.sh)"
        )
    try:
        return _start_pgserver()
    except Exception as exc:  # noqa: BLE001 - any failure to start is a reason to skip
        pytest.skip(f"Postgres store: could not start pgserver: {exc}")
