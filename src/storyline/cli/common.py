"""What every ``storyline`` command shares: exit codes, error handling, options, store, output.

Command modules import from here and never from the :mod:`storyline.cli` package itself, so
the package can import them without a cycle.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ..errors import StoreError, StorylineError

if TYPE_CHECKING:
    from rich.progress import Progress as ProgressBar

    from ..run.pipeline import Pipeline, Progress
    from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = "SQLite file or store URL (sqlite:///x.db, postgresql://…)."

# Exit codes. Library errors carry their own (``StorylineError.exit_code``: 1 other, 2 bad
# input, 4 not found, 5 store error, 6 missing optional dependency); these are the CLI's.
EXIT_ERROR = 1  # any other failure
EXIT_BAD_INPUT = 2  # an OSError or ValueError: a file or value the command could not use
EXIT_SKIPPED = 3  # the run finished, but some inputs were skipped
EXIT_INTERRUPTED = 130  # Ctrl-C


# -- errors -----------------------------------------------------------------------------------


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``storyline: error: MESSAGE`` on stderr and exit with ``code``."""
    click.echo(f"storyline: error: {safe(message)}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Translate library errors into one-line messages and exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StorylineError as exc:
            fail(str(exc), exc.exit_code)
        except BrokenPipeError:  # e.g. `storyline export | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except Exception as exc:
            why = store_failure(exc)
            if why is not None:  # disk full, read-only, locked: one line, exit 5
                fail(why, StoreError.exit_code)
            if isinstance(exc, OSError | ValueError):
                fail(str(exc), EXIT_BAD_INPUT)
            raise

    return wrapper  # type: ignore[return-value]


_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: object, newlines: bool = False) -> str:
    r"""Text from the store or the input as it may reach a terminal: control characters
    (ESC, BEL, OSC, bidi overrides, …) shown escaped (``\x1b``), never sent raw; newlines
    escaped too unless ``newlines``.

    >>> print(safe("a\x1b]0;pwned\x07b\nc"))
    a\x1b]0;pwned\x07b\nc
    """
    value = str(text)
    if not newlines:
        value = value.replace("\n", "\\n")
    return _UNPRINTABLE.sub(lambda m: repr(m.group(0))[1:-1], value)


def echo(line: object, err: bool = False) -> None:
    """``click.echo`` of a line with :func:`safe` applied (user text is printed as text)."""
    click.echo(safe(line), err=err)


def store_failure(exc: BaseException) -> str | None:
    """A one-line message when ``exc`` comes from the store's database driver (sqlite3,
    psycopg): the disk is full, the file read-only, the database locked or corrupt."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        module = type(exc).__module__ or ""
        if module.startswith(("sqlite3", "psycopg")):
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = ""
            if "full" in text:
                hint = " (free some space; what was committed before is kept)"
            elif "readonly" in text or "read-only" in text:
                hint = " (the store's file or folder is not writable)"
            elif "locked" in text or "busy" in text:
                hint = " (another process is writing; try again)"
            return f"store error: {text}{hint}"
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


def echo_skipped(origin: str, reason: str) -> None:
    """Name one skipped input on stderr."""
    click.echo(f"storyline: skipped {safe(origin)}: {safe(reason)}", err=True)


# -- options shared by several commands -------------------------------------------------------


def db_option(fn: F) -> F:
    """``--db``: the store a command works on (default ``storyline.db``)."""
    return click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)(fn)


def workers_option(fn: F) -> F:
    """``--workers``: how many encoding processes."""
    return click.option(
        "--workers",
        default=1,
        show_default=True,
        type=click.IntRange(1, 256),
        help="Encoding processes (Ray actors when storyline[ray] is installed).",
    )(fn)


def columns_option(fn: F) -> F:
    """``--columns``: where the fields are in table-like inputs."""
    return click.option(
        "--columns",
        help="Column names of CSV/TSV/JSON/Parquet inputs: FIELD=COLUMN,... (fields: id, text, "
        "title, published, lang, source, url), e.g. text=story,title=headline.",
    )(fn)


def quiet_option(help: str) -> Callable[[F], F]:
    """``-q/--quiet``, with what it silences for this command."""
    return click.option("-q", "--quiet", is_flag=True, help=help)


def json_option(help: str) -> Callable[[F], F]:
    """``--json``: print JSON instead of text (the value arrives as ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def out_option(help: str) -> Callable[[F], F]:
    """``--out FILE``: where to write."""
    return click.option("--out", type=click.Path(dir_okay=False), help=help)


# -- store and pipeline -----------------------------------------------------------------------


def missing_store(db: str) -> str | None:
    """Why ``db`` names no existing store (a file path that is not there), or None.

    URLs and ``:memory:`` always count as existing: opening them says whether they work.
    """
    if "://" in db or db == ":memory:" or Path(db).exists():
        return None
    return f"no store at {db}; run `storyline cluster INPUT --db {db}` first"


def open_existing_store(db: str) -> Store:
    """Open the store at ``db``; a missing file is a :class:`StoreError`, never a new store."""
    from ..store import open_store

    why = missing_store(db)
    if why:
        raise StoreError(why)
    return open_store(db)


def build_pipeline(db: str, progress: Progress | None = None, workers: int = 1) -> Pipeline:
    """A :class:`Pipeline` over ``db``, encoding in ``workers`` processes when more than one.

    ``STORYLINE_ENCODER=hashing`` in the environment selects the model-free hashing encoder
    (for tests and tiny installs; it does not cross languages).
    """
    from ..run.pipeline import Pipeline

    if os.environ.get("STORYLINE_ENCODER", "").strip().lower() == "hashing":
        from ..represent.encoder import HashingEncoder

        return Pipeline(db, progress=progress, encoder=HashingEncoder(), second=False)
    encoder = None
    if workers > 1:
        from ..run.workers import ParallelEncoder

        encoder = ParallelEncoder(workers)
    return Pipeline(db, progress=progress, encoder=encoder)


def progress_bar(quiet: bool) -> tuple[ProgressBar, Progress] | tuple[None, None]:
    """A rich progress bar and its ``update(stage, done, total)`` on a terminal.

    ``(None, None)`` when quiet or when stderr is not a terminal.
    """
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description:>8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


# -- tables -----------------------------------------------------------------------------------


def print_table(columns: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    """A rich table on stdout: terminal width on a terminal, 160 columns when piped."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:  # Text cells: "[/bold]" or "[in Geneva]" in a title is text, not markup
        table.add_row(*(Text(safe(cell)) for cell in row))
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def print_events_table(events: list[Any], largest_first: bool = True) -> None:
    """Events, largest first (or in the order given): id, date, number of articles,
    languages, headline.

    Each item is an :class:`~storyline.model.Event` or an event brief (a dict from
    :func:`storyline.describe.listing.event_brief`); a headline in another language than the
    one asked for is marked with that language.
    """
    rows = []
    if largest_first:
        events = sorted(events, key=lambda e: (-_get(e, "size"), _get(e, "id")))
    for e in events:
        if not isinstance(e, dict):
            e = {"id": e.id, "date": e.date, "size": e.size, "languages": e.languages,
                 "headline": e.headline or e.title}  # fmt: skip
        langs = " ".join(f"{k}:{v}" for k, v in e["languages"].items())
        headline = e["headline"] or ""
        if e.get("display_fallback"):
            headline = f"[{e['display_lang']}] {headline}"
        rows.append((e["id"], str(e["date"] or "?"), str(e["size"]), langs, headline))
    print_table(("event", "date", "articles", "languages", "headline"), rows)


def _get(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)
