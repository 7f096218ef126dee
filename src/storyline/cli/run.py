"""Commands that put articles into a store and assign them: ``cluster``, ``ingest``, ``watch``."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING

import click

from ..errors import StorylineError
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


def ray_address_option(fn):  # type: ignore[no-untyped-def]
    """``--ray-address``: the Ray cluster the ingest workers run on."""
    return click.option(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Run the --workers on this Ray cluster (e.g. ray://head:10001, or auto); "
        "without it a local Ray is started for the command.",
    )(fn)


def _run(
    inputs: tuple[str, ...], db: str, quiet: bool, workers: int, columns: str | None = None,
    ray_address: str | None = None, assign: bool = True,
) -> tuple[Pipeline, RunReport]:
    """Run the pipeline over ``inputs`` (with a progress bar on a terminal); name the skips.

    With more than one worker (or a Ray address), reading, preparing and encoding run on
    ingest workers that store articles and vectors (:mod:`storyline.run.distributed`); then,
    when ``assign``, the one ordered clusterer of this process assigns them."""
    readers = _readers(columns)
    bar, update = progress_bar(quiet)
    started = _now()
    with bar if bar is not None else _nothing():
        pipe = build_pipeline(db, update)  # (workers > 1 run as ingest workers, below)
        pipe.readers = readers  # type: ignore[assignment]
        if workers > 1 or ray_address:
            report = _distributed(pipe, inputs, workers, ray_address, assign)
        else:
            report = pipe.run(list(inputs), stdin=sys.stdin)
    for s in report.skipped:
        echo_skipped(s.origin, s.reason)
    if assign:
        _report_follows(pipe.store, started)
    return pipe, report


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _report_follows(store: object, started: str) -> None:
    """One line when this run's articles match saved searches (`follow news` lists them;
    its own "since the last report" marker is left as it is)."""
    from ..follow import follows, news

    try:
        if not follows(store):  # type: ignore[arg-type]
            return
        found = news(store, started)  # type: ignore[arg-type]
    except StorylineError as exc:  # a store that cannot say when articles came: say nothing
        logging.getLogger(__name__).debug("no saved-search report: %s", exc)
        return
    if found:
        events = len({m.event.id for m in found})
        click.echo(
            f"storyline: {len(found)} saved-search match(es) in {events} event(s); "
            "`storyline follow news` lists them",
            err=True,
        )


def _distributed(
    pipe: Pipeline, inputs: tuple[str, ...], workers: int, address: str | None, assign: bool
) -> RunReport:
    """Ingest on ``workers`` workers, then (``assign``) assign in this process."""
    from ..run.distributed import ingest as ingest_on_workers
    from ..run.pipeline import RunReport

    stored = ingest_on_workers(pipe, list(inputs), workers=workers, address=address, stdin=sys.stdin)
    click.echo(f"storyline: {safe(stored.summary())}", err=True)
    if assign:
        report = pipe.assign(stored.order)
    else:
        report = RunReport(new=len(stored.stored))
    report.skipped = [*stored.skipped, *report.skipped]
    report.known += stored.known
    return report


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


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
@ray_address_option
@columns_option
@handle_errors
def cluster(
    inputs: tuple[str, ...], db: str, out: str | None, quiet: bool, workers: int,
    ray_address: str | None, columns: str | None,
) -> None:
    """Ingest INPUTS (files, folders, - for stdin) and assign every article to an event.

    With --workers N (N > 1) or --ray-address, N Ray workers read, prepare and encode the
    articles and store them with their vectors; this process then assigns them in order.
    """
    pipe, report = _run(inputs, db, quiet, workers, columns, ray_address)
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
@ray_address_option
@click.option(
    "--no-assign", is_flag=True,
    help="Only store the articles and their vectors; `storyline assign` assigns them later "
    "(e.g. on the one machine that clusters).",
)
@columns_option
@handle_errors
def ingest(
    inputs: tuple[str, ...], db: str, quiet: bool, workers: int, ray_address: str | None,
    no_assign: bool, columns: str | None,
) -> None:
    """Add INPUTS to the store (each article once) and assign them; prints a summary.

    With --workers N (N > 1) or --ray-address, N Ray workers (a local Ray unless an address
    is given; local processes when Ray is not installed) read, prepare and encode the
    articles and store them with their vectors: Postgres stores receive them from the workers
    directly, SQLite ones through this process. Then this process assigns them, unless
    --no-assign.
    """
    if no_assign and workers == 1 and not ray_address:
        raise click.UsageError("--no-assign needs ingest workers (--workers N or --ray-address)")
    _, report = _run(inputs, db, quiet, workers, columns, ray_address, assign=not no_assign)
    if no_assign:
        click.echo(f"storyline: {report.new} articles stored; `storyline assign --db DB` assigns them", err=True)
        if report.skipped:
            sys.exit(EXIT_SKIPPED)
        return
    _done(report)


@click.command()
@db_option
@out_option("Write the assignments of the articles assigned now (JSONL).")
@quiet_option("No progress bar.")
@handle_errors
def assign(db: str, out: str | None, quiet: bool) -> None:
    """Assign the stored articles that have no event yet (stored by `ingest --no-assign`,
    by workers on other machines, or by a run that stopped), in publication order, with
    their stored vectors: nothing is encoded again."""
    from .common import open_existing_store

    open_existing_store(db).close()
    bar, update = progress_bar(quiet)
    with bar if bar is not None else _nothing():
        pipe = build_pipeline(db, update)
        report = pipe.assign(pipe.unassigned())
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in report.assignments)
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


COMMANDS = (cluster, ingest, assign, watch, skipped)
