"""CLI commands with optional parts: ``serve`` (web extra) and ``watch`` (feeds extra)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import MissingExtra
from . import DB_HELP, EXIT_SKIPPED, handle_errors


@click.command()
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token", envvar="STORYLINE_TOKEN", default=None,
    help="Bearer token required by write endpoints (or env STORYLINE_TOKEN).",
)  # fmt: skip
@click.option(
    "--no-auth", is_flag=True,
    help="Without a token, accept writes from loopback clients only (needs a loopback --host).",
)  # fmt: skip
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
    if not writes_possible and "://" not in db and db != ":memory:" and not Path(db).exists():
        raise click.UsageError(f"no store at {db}; run `storyline cluster INPUT --db {db}` first")
    if token:
        mode = "writes need the bearer token"
    elif no_auth:
        mode = "writes open to loopback clients (no token)"
    else:
        mode = "read-only (give --token or STORYLINE_TOKEN to accept articles)"
    click.echo(f"storyline: serving {db} on http://{host}:{port}/ — {mode}", err=True)
    app = create_app(db, token=token, allow_no_auth=no_auth)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@click.command()
@click.argument("feeds", nargs=-1, required=True)
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--interval", default=300, show_default=True, type=click.IntRange(min=1),
              help="Seconds between rounds.")  # fmt: skip
@click.option("--once", is_flag=True, help="Poll every feed once, print a summary and exit.")
@handle_errors
def watch(feeds: tuple[str, ...], db: str, interval: int, once: bool) -> None:
    """Poll FEEDS (RSS/Atom URLs or OPML files) and ingest new entries.

    Conditional requests (ETag / Last-Modified) make unchanged feeds cheap; entries already
    stored are skipped; short entries are completed from their page. Ctrl-C stops.
    """
    from ..ingest.watch import FeedResult, FeedWatcher, expand_feeds, summarize
    from ..run.pipeline import Pipeline

    urls = expand_feeds(feeds)
    watcher = FeedWatcher(Pipeline(db))
    failed = False

    def report(results: list[FeedResult]) -> None:
        nonlocal failed
        for r in results:
            click.echo(f"storyline: {r.line()}", err=True)
        failed = any(r.status == "error" for r in results)

    try:
        results = watcher.run(urls, interval=interval, once=once, on_round=report)
    except KeyboardInterrupt:
        click.echo("storyline: stopped", err=True)
        return
    click.echo(f"storyline: {summarize(results)}", err=True)
    if failed:
        sys.exit(EXIT_SKIPPED)


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(watch)
