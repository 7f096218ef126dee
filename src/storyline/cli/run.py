"""Commands that put articles into a store and assign them: ``cluster``, ``ingest``, ``watch``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from .common import (
    EXIT_SKIPPED,
    build_pipeline,
    columns_option,
    db_option,
    echo_skipped,
    handle_errors,
    json_option,
    out_option,
    print_events_table,
    print_table,
    progress_bar,
    quiet_option,
    safe,
    workers_option,
)

if TYPE_CHECKING:
    from ..run.pipeline import Pipeline, RunReport


def _readers(columns: str | None) -> list[object] | None:
    """The default readers, the table readers with ``--columns field=column,...``."""
    if not columns:
        return None
    from ..ingest import CsvReader, JsonReader, ParquetReader, default_readers

    mapping: dict[str, str] = {}
    for part in columns.split(","):
        field, sep, col = part.partition("=")
        if not sep or not field.strip() or not col.strip():
            raise click.BadParameter(f"{part!r}: expected FIELD=COLUMN", param_hint="--columns")
        mapping[field.strip()] = col.strip()
    tables = (CsvReader, JsonReader, ParquetReader)
    return [r for r in default_readers() if not isinstance(r, tables)] + [t(mapping) for t in tables]


def _run(
    inputs: tuple[str, ...], db: str, quiet: bool, workers: int, columns: str | None = None
) -> tuple[Pipeline, RunReport]:
    """Run the pipeline over ``inputs`` (with a progress bar on a terminal); name the skips."""
    readers = _readers(columns)
    bar, update = progress_bar(quiet)
    if bar is not None:
        with bar:
            pipe = build_pipeline(db, update, workers)
            pipe.readers = readers  # type: ignore[assignment]
            report = pipe.run(list(inputs), stdin=sys.stdin)
    else:
        pipe = build_pipeline(db, workers=workers)
        pipe.readers = readers  # type: ignore[assignment]
        report = pipe.run(list(inputs), stdin=sys.stdin)
    for s in report.skipped:
        echo_skipped(s.origin, s.reason)
    return pipe, report


def _done(report: RunReport) -> None:
    """The run's one-line summary on stderr; exit code 3 when inputs were skipped."""
    click.echo(f"storyline: {safe(report.summary())}", err=True)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@db_option
@out_option("Write assignments (JSONL).")
@quiet_option("No progress bar, no event table.")
@workers_option
@columns_option
@handle_errors
def cluster(
    inputs: tuple[str, ...], db: str, out: str | None, quiet: bool, workers: int, columns: str | None
) -> None:
    """Ingest INPUTS (files, folders, - for stdin) and assign every article to an event."""
    pipe, report = _run(inputs, db, quiet, workers, columns)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.writelines(
                json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in report.assignments
            )
    if not quiet:
        ids = {a.event for a in report.assignments}
        print_events_table([e for e in pipe.store.iter_events() if e.id in ids])
    _done(report)


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@db_option
@quiet_option("No progress bar.")
@workers_option
@columns_option
@handle_errors
def ingest(inputs: tuple[str, ...], db: str, quiet: bool, workers: int, columns: str | None) -> None:
    """Add INPUTS to the store (each article once) and assign them; prints a summary."""
    _, report = _run(inputs, db, quiet, workers, columns)
    _done(report)


@click.command()
@click.argument("feeds", nargs=-1, required=True)
@db_option
@click.option(
    "--interval",
    default=300,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds between rounds.",
)
@click.option("--once", is_flag=True, help="Poll every feed once, print a summary and exit.")
@click.option(
    "--no-fetch", is_flag=True,
    help="Never fetch an entry's page: ingest the text the feed carries.",
)
@handle_errors
def watch(feeds: tuple[str, ...], db: str, interval: int, once: bool, no_fetch: bool) -> None:
    """Poll FEEDS (RSS/Atom URLs or OPML files) and ingest new entries.

    Conditional requests (ETag / Last-Modified) make unchanged feeds cheap; entries already
    stored are skipped; short entries are completed from their page (not with --no-fetch).
    An http(s) URL of an OPML list polls each feed it lists. Ctrl-C stops.
    """
    from ..ingest.watch import FeedResult, FeedWatcher, expand_feeds, summarize

    urls = expand_feeds(feeds)
    watcher = FeedWatcher(build_pipeline(db), fetch_pages=not no_fetch)
    failed = False

    def report(results: list[FeedResult]) -> None:
        nonlocal failed
        for r in results:
            click.echo(f"storyline: {safe(r.line())}", err=True)
        failed = any(r.status == "error" for r in results)

    try:
        results = watcher.run(urls, interval=interval, once=once, on_round=report)
    except KeyboardInterrupt:
        click.echo("storyline: stopped", err=True)
        return
    click.echo(f"storyline: {summarize(results)}", err=True)
    if failed:
        sys.exit(EXIT_SKIPPED)


@click.command()
@db_option
@click.option("--retry", is_flag=True, help="Run the quarantined articles again.")
@click.option("--id", "ids", multiple=True, help="Only this article (repeatable).")
@json_option("Print JSON lines instead of a table.")
@handle_errors
def skipped(db: str, retry: bool, ids: tuple[str, ...], as_json: bool) -> None:
    """List the quarantined articles (those that failed in a run, with their error).

    Runs never retry them by themselves; --retry runs them again (exit 3 when some fail
    again: they go back to quarantine with their new error).
    """
    from .common import open_existing_store

    if retry:
        open_existing_store(db).close()
        pipe = build_pipeline(db)
        report = pipe.retry_quarantined(ids or None)
        for s in report.skipped:
            echo_skipped(s.origin, s.reason)
        _done(report)
        return
    store = open_existing_store(db)
    items = [q for q in store.quarantined() if not ids or q.article.id in ids]
    if as_json:
        for q in items:
            out = q.to_json()
            out.pop("text", None)
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    print_table(
        ("article", "since", "error", "origin"),
        ((q.article.id, q.at, q.error, q.article.origin or "") for q in items),
    )
    click.echo(f"storyline: {len(items)} quarantined article(s)", err=True)


COMMANDS = (cluster, ingest, watch, skipped)
