"""The ``storyline`` command: a thin layer over the library.

Every command opens a store (``--db``, default ``storyline.db``), calls the library, and prints.
Errors are one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import StorylineError
from ..version import __version__

DB_HELP = "SQLite file or store URL (sqlite:///x.db, postgresql://…)."
EXIT_SKIPPED = 3  # the run finished, but some inputs were skipped


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"storyline: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Translate library errors into one-line messages and exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StorylineError as exc:
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:  # e.g. `storyline export | head`
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except (OSError, ValueError) as exc:
            _fail(str(exc), 2)
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper


def _progress_bar(quiet: bool):  # type: ignore[no-untyped-def]
    """A rich progress bar on a terminal; nothing when piped or quiet."""
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
        TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


def _pipeline(db: str, quiet: bool = True, progress=None, workers: int = 1):  # type: ignore[no-untyped-def]
    from ..run.pipeline import Pipeline

    encoder = None
    if workers > 1:
        from ..run.workers import ParallelEncoder

        encoder = ParallelEncoder(workers)
    return Pipeline(db, progress=progress, encoder=encoder)


def _store(db: str):  # type: ignore[no-untyped-def]
    from ..store import open_store

    if "://" not in db and db != ":memory:" and not Path(db).exists():
        from ..errors import StoreError

        raise StoreError(f"no store at {db}; run `storyline cluster INPUT --db {db}` first")
    return open_store(db)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="storyline")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(verbose: int) -> None:
    """storyline: multilingual news articles in, events and stories out."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="storyline: %(levelname)s: %(message)s")
    if verbose == 0:  # the CLI names each skipped input itself
        skips = logging.getLogger("storyline.skips")
        before = skips.level
        skips.setLevel(logging.ERROR)
        click.get_current_context().call_on_close(lambda: skips.setLevel(before))


def _run(inputs: tuple[str, ...], db: str, quiet: bool, workers: int = 1):  # type: ignore[no-untyped-def]
    bar, update = _progress_bar(quiet)
    if bar is not None:
        with bar:
            pipe = _pipeline(db, quiet, update, workers)
            report = pipe.run(list(inputs), stdin=sys.stdin)
    else:
        pipe = _pipeline(db, quiet, workers=workers)
        report = pipe.run(list(inputs), stdin=sys.stdin)
    for s in report.skipped:
        click.echo(f"storyline: skipped {s.origin}: {s.reason}", err=True)
    return pipe, report


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write assignments (JSONL).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no event table.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Encoding processes (Ray actors when storyline[ray] is installed).")
@handle_errors
def cluster(inputs: tuple[str, ...], db: str, out: str | None, quiet: bool, workers: int) -> None:
    """Ingest INPUTS (files, folders, - for stdin) and assign every article to an event."""
    pipe, report = _run(inputs, db, quiet, workers)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in report.assignments)
    if not quiet:
        ids = {a.event for a in report.assignments}
        _events_table([e for e in pipe.store.iter_events() if e.id in ids])
    click.echo(f"storyline: {report.summary()}", err=True)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Encoding processes (Ray actors when storyline[ray] is installed).")
@handle_errors
def ingest(inputs: tuple[str, ...], db: str, quiet: bool, workers: int) -> None:
    """Add INPUTS to the store (each article once) and assign them; prints a summary."""
    _, report = _run(inputs, db, quiet, workers)
    click.echo(f"storyline: {report.summary()}", err=True)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


def _events_table(events: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("event", "date", "articles", "languages", "headline"):
        table.add_column(col, overflow="fold")
    for e in sorted(events, key=lambda e: (-e.size, e.id)):
        langs = " ".join(f"{k}:{v}" for k, v in e.languages.items())
        table.add_row(e.id, str(e.date or "?"), str(e.size), langs, (e.headline or e.title)[:100])
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@main.command()
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--limit", default=50, show_default=True, help="How many events (largest first).")
@handle_errors
def events(db: str, limit: int) -> None:
    """List events: id, date, number of articles, languages, headline."""
    store = _store(db)
    evs = sorted(store.iter_events(), key=lambda e: (-e.size, e.id))[:limit]
    _events_table(evs)


@main.command()
@click.argument("event_id")
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the event as JSON.")
@click.option("--lang", default=None, help="Headline and summary from members in this language when possible.")
@handle_errors
def show(event_id: str, db: str, as_json: bool, lang: str | None) -> None:
    """Show one event: headline, date, summary, entities, families, articles."""
    from ..describe.anatomy import in_language
    from ..errors import NotFound
    from ..store.export import event_record

    store = _store(db)
    ev = store.get_event(event_id)
    if ev is None:
        raise NotFound(f"no event {event_id}")
    if lang:
        ev = in_language(store, ev, lang.lower())
    rec = event_record(store, ev)
    if as_json:
        click.echo(json.dumps(rec, ensure_ascii=False, indent=2, default=str))
        return
    if ev.id != event_id:
        click.echo(f"({event_id} was merged into {ev.id})")
    click.echo(f"{ev.id}  {ev.headline or ev.title}")
    click.echo(f"date: {ev.date or '?'}  articles: {ev.size}  languages: {rec['languages']}")
    click.echo(f"story: {ev.story}")
    if ev.summary:
        click.echo(f"summary: {ev.summary}")
    if ev.keyphrases:
        click.echo("keyphrases: " + ", ".join(ev.keyphrases))
    if ev.entities:
        click.echo("entities: " + ", ".join(f"{name} ({n})" for _, name, n in ev.entities[:12]))
    for fam in rec["families"]:
        click.echo(f"family {fam['id']} ({len(fam['articles'])}):")
        for a in fam["articles"]:
            click.echo(f"  {a['id']}  [{a['lang']}] {a['published'] or '-'}  {a['title'][:90]}")


@main.command()
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--what", type=click.Choice(["articles", "events", "stories"]), default="articles", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@handle_errors
def export(db: str, fmt: str, what: str, out: str | None) -> None:
    """Export articles with their assignments, or events, or stories."""
    from ..store.export import records

    store = _store(db)
    rows = list(records(store, what))
    with click.open_file(out or "-", "w", encoding="utf-8") as fh:  # "-" is stdout, left open
        if fmt == "jsonl":
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        else:
            cols = list(rows[0]) if rows else []
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for r in rows:
                w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in r.items()})


from .more import register

register(main)
