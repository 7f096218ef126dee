"""The ``serve`` command: the JSON API and the web pages over a store (the ``web`` extra)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import MissingExtra
from .common import EXIT_ERROR, db_option, fail, handle_errors, missing_store


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
    "--token-file",
    type=click.Path(dir_okay=False),
    help="Read the bearer token from this file (not visible in ps, unlike --token).",
)
@click.option(
    "--public",
    is_flag=True,
    help="Allow a non-loopback --host without a token (every article, event and story is "
    "then readable from the network).",
)
@click.option(
    "--no-auth",
    is_flag=True,
    help="Without a token, accept writes from loopback clients only (needs a loopback --host).",
)
@click.pass_context
@handle_errors
def serve(
    ctx: click.Context, db: str, host: str, port: int, token: str | None,
    token_file: str | None, public: bool, no_auth: bool,
) -> None:
    """Serve the JSON API (/api, docs at /docs) and the web pages over a store.

    Reads are open. Writes (POST /api/articles) need `Authorization: Bearer TOKEN` (from
    --token-file, STORYLINE_TOKEN or --token); with no token the server is read-only, unless
    --no-auth on a loopback address lets local clients write. A non-loopback --host without
    a token needs --public.
    """
    if token_file:
        token = Path(token_file).read_text("utf-8").strip() or None
        if not token:
            raise click.UsageError(f"{token_file} holds no token")
    elif token and ctx.get_parameter_source("token") == click.core.ParameterSource.COMMANDLINE:
        click.echo(
            "storyline: warning: --token is visible to other users in `ps`; prefer "
            "--token-file or STORYLINE_TOKEN", err=True,
        )
    try:
        import uvicorn

        from ..http.app import create_app, is_loopback
    except ImportError as exc:
        raise MissingExtra(exc.name or "fastapi", "web") from exc
    if no_auth and not token and not is_loopback(host):
        raise click.UsageError(f"--no-auth is only allowed on a loopback address, not {host}")
    if not token and not is_loopback(host):
        if not public:
            raise click.UsageError(
                f"{host} is not a loopback address and no token is set: every article, event "
                "and story would be readable from the network; add --public to mean it, or "
                "serve on 127.0.0.1"
            )
        click.echo(
            f"storyline: warning: serving {db} to the network on {host} without a token "
            "(read-only, readable by anyone who can reach it)", err=True,
        )
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
    check_port(host, port)
    app = create_app(db, token=token, allow_no_auth=no_auth)
    from ..http.timeouts import KEEP_ALIVE, HeaderTimeoutH11

    try:
        uvicorn.run(
            app, host=host, port=port, log_level="info", proxy_headers=False,
            http=HeaderTimeoutH11, timeout_keep_alive=KEEP_ALIVE,
            h11_max_incomplete_event_size=64 * 1024,  # request head at most 64 KB
        )  # fmt: skip
    except SystemExit as exc:  # uvicorn exits 3 when it cannot start: not "skipped" here
        if exc.code not in (0, None):
            fail(f"the server on {host}:{port} could not start (see above)", EXIT_ERROR)
        raise


def check_port(host: str, port: int) -> None:
    """Fail with one line (exit 1) when ``host:port`` cannot be listened on (in use, no
    such address, no permission)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"cannot serve on {host}: {exc.strerror or exc}", EXIT_ERROR)
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_ERROR)


COMMANDS = (serve,)
