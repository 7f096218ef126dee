"""The ``serve`` command: the JSON API and the web pages over a store (the ``web`` extra)."""

from __future__ import annotations

import click

from ..errors import MissingExtra
from .common import db_option, handle_errors, missing_store


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token",
    envvar="STORYLINE_TOKEN",
    default=None,
    help="Bearer token required by write endpoints (or env STORYLINE_TOKEN).",
)
@click.option(
    "--no-auth",
    is_flag=True,
    help="Without a token, accept writes from loopback clients only (needs a loopback --host).",
)
@handle_errors
def serve(db: str, host: str, port: int, token: str | None, no_auth: bool) -> None:
    """Serve the JSON API (/api, docs at /docs) and the web pages over a store.

    Reads are open. Writes (POST /api/articles) need `Authorization: Bearer TOKEN`; with no
    token the server is read-only, unless --no-auth on a loopback address lets local clients
    write.
    """
    try:
        import uvicorn

        from ..http.app import create_app, is_loopback
    except ImportError as exc:
        raise MissingExtra(exc.name or "fastapi", "web") from exc
    if no_auth and not token and not is_loopback(host):
        raise click.UsageError(f"--no-auth is only allowed on a loopback address, not {host}")
    writes_possible = bool(token) or no_auth
    why = None if writes_possible else missing_store(db)  # a writable server may create it
    if why:
        raise click.UsageError(why)
    if token:
        mode = "writes need the bearer token"
    elif no_auth:
        mode = "writes open to loopback clients (no token)"
    else:
        mode = "read-only (give --token or STORYLINE_TOKEN to accept articles)"
    click.echo(f"storyline: serving {db} on http://{host}:{port}/ — {mode}", err=True)
    app = create_app(db, token=token, allow_no_auth=no_auth)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


COMMANDS = (serve,)
