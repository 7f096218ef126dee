"""Commands that read an existing store: ``events``, ``show``, ``export``, ``stories``,
``story``, ``search``.

None of them creates a store: a missing ``--db`` file is an error.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..describe.listing import (
    SORTS,
    EventFilter,
    event_brief,
    list_events,
    list_stories,
    story_brief,
)
from ..errors import InputError
from .common import (
    db_option,
    echo,
    handle_errors,
    json_option,
    open_existing_store,
    out_option,
    print_events_table,
    print_table,
)

F = TypeVar("F", bound=Callable[..., Any])


def listing_options(default_limit: int) -> Callable[[F], F]:
    """``--sort``, ``--since``, ``--until``, ``--lang``, ``--source``, ``--limit``, ``--json``:
    what ``events`` and ``stories`` share."""

    def wrap(fn: F) -> F:
        for opt in reversed((
            click.option("--sort", type=click.Choice(SORTS), default="date", show_default=True,
                         help="date: newest first; size: largest first."),
            click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
                         help="Only events dated on or after this day (YYYY-MM-DD)."),
            click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
                         help="Only events dated on or before this day (YYYY-MM-DD)."),
            click.option("--lang", default=None, help="Only events with articles in this "
                         "language, described in it (headline, summary)."),
            click.option("--source", default=None, help="Only events with articles from "
                         "this source."),
            click.option("--limit", type=click.IntRange(1), default=default_limit,
                         show_default=True, help="How many to list."),
            json_option("One JSON object per line instead of a table."),
        )):  # fmt: skip
            fn = opt(fn)
        return fn

    return wrap


def _filter(since: Any, until: Any, lang: str | None, source: str | None) -> EventFilter:
    return EventFilter(
        start=since.date() if since else None, end=until.date() if until else None,
        lang=lang, source=source,
    )  # fmt: skip


def _jsonl(records: Any) -> None:
    for rec in records:
        click.echo(json.dumps(rec, ensure_ascii=False, default=str))


@click.command()
@db_option
@listing_options(50)
@handle_errors
def events(
    db: str, sort: str, since: Any, until: Any, lang: str | None, source: str | None,
    limit: int, as_json: bool,
) -> None:  # fmt: skip
    """List events, newest first: id, date, number of articles, languages, headline."""
    store = open_existing_store(db)
    _, page = list_events(store, _filter(since, until, lang, source), sort=sort, limit=limit)
    briefs = [event_brief(store, e, lang) for e in page]
    if as_json:
        _jsonl(briefs)
        return
    print_events_table(briefs, largest_first=False)


@click.command()
@click.argument("event_id")
@db_option
@json_option("Print the event as JSON.")
@click.option(
    "--lang",
    default=None,
    help="Headline and summary from members in this language when possible.",
)
@handle_errors
def show(event_id: str, db: str, as_json: bool, lang: str | None) -> None:
    """Show one event: headline, date, summary, entities, families, articles."""
    from ..errors import NotFound
    from ..store.export import event_record

    store = open_existing_store(db)
    ev = store.get_event(event_id)
    if ev is None:
        raise NotFound(f"no event {event_id}")
    rec = event_record(store, ev, lang)
    if as_json:
        click.echo(json.dumps(rec, ensure_ascii=False, indent=2, default=str))
        return
    if ev.id != event_id:
        echo(f"({event_id} was merged into {ev.id})")
    echo(f"{ev.id}  {rec['headline'] or rec['title']}")
    echo(f"date: {ev.date or '?'}  articles: {ev.size}  languages: {rec['languages']}")
    echo(f"story: {ev.story or 'not linked yet (at the next counted commit of the run)'}")
    if rec["display_fallback"]:
        echo(f"(no article in {lang}: described in {rec['display_lang']})")
    if rec["summary"]:
        echo(f"summary: {rec['summary']}")
    if rec["keyphrases"]:
        echo("keyphrases: " + ", ".join(rec["keyphrases"]))
    if rec["entities"]:
        echo("entities: " + ", ".join(f"{e['name']} ({e['count']})" for e in rec["entities"][:12]))
    for fam in rec["families"]:
        echo(f"family {fam['id']} ({len(fam['articles'])}):")
        for a in fam["articles"]:
            echo(f"  {a['id']}  [{a['lang']}] {a['published'] or '-'}  {a['title'][:90]}")


@click.command()
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--what",
    type=click.Choice(["articles", "events", "stories"]),
    default="articles",
    show_default=True,
)
@out_option("File to write (default: stdout).")
@handle_errors
def export(db: str, fmt: str, what: str, out: str | None) -> None:
    """Export articles with their assignments, or events, or stories."""
    from ..store.export import records

    store = open_existing_store(db)
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
                w.writerow({k: _csv_cell(v) for k, v in r.items()})


def _csv_cell(value: object) -> object:
    """Lists and dicts go into one CSV cell as JSON; text that a spreadsheet would run as a
    formula (``=``, ``+``, ``-``, ``@``, tab, CR first) gets a leading ``'``; else as is."""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@click.command()
@db_option
@listing_options(30)
@handle_errors
def stories(
    db: str, sort: str, since: Any, until: Any, lang: str | None, source: str | None,
    limit: int, as_json: bool,
) -> None:  # fmt: skip
    """List stories, latest first: id, span of dates, number of events, headline."""
    store = open_existing_store(db)
    _, page = list_stories(store, _filter(since, until, lang, source), sort=sort, limit=limit)
    briefs = [story_brief(store, st, evs, lang) for st, evs in page]
    if as_json:
        _jsonl(briefs)
        return
    print_table(
        ("story", "from", "to", "events", "headline"),
        (
            (b["id"], b["start"] or "?", b["end"] or "?", str(b["events"]), _marked(b))
            for b in briefs
        ),
    )


def _marked(brief: dict[str, Any]) -> str:
    """The headline, with its language when it is not the one asked for."""
    text = brief["headline"] or ""
    return f"[{brief['display_lang']}] {text}" if brief.get("display_fallback") else text


@click.command()
@click.argument("query")
@db_option
@click.option("--lang", default=None, help="Describe the events in this language.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--no-neighbours", is_flag=True,
    help="Only text and entity matches (no encoder is loaded).",
)  # fmt: skip
@json_option("One JSON object per line instead of a table.")
@handle_errors
def search(
    query: str, db: str, lang: str | None, limit: int, no_neighbours: bool, as_json: bool
) -> None:
    """Find events by words, names or meaning, in any language ("Iraq" finds "Irak")."""
    from ..describe.search import search as find

    if not query.strip():
        raise InputError("the query is empty")
    store = open_existing_store(db)
    hits = find(store, query, neighbours=not no_neighbours, limit=limit)
    briefs = [{**event_brief(store, h.event, lang), "score": h.score, "why": h.why} for h in hits]
    if as_json:
        _jsonl(briefs)
        return
    if not briefs:
        echo(f"no events match {query!r}")
        return
    rows = []
    for b in briefs:
        langs = " ".join(f"{k}:{v}" for k, v in b["languages"].items())
        rows.append((b["id"], b["date"] or "?", str(b["size"]), langs, b["why"], _marked(b)))
    print_table(("event", "date", "articles", "languages", "found by", "headline"), rows)


@click.command()
@click.argument("story_id")
@db_option
@json_option("Print the timeline as JSON.")
@handle_errors
def story(story_id: str, db: str, as_json: bool) -> None:
    """Show a story as a timeline of its events."""
    from ..errors import NotFound
    from ..store.export import story_record

    store = open_existing_store(db)
    st = store.get_story(story_id)
    if st is None:
        raise NotFound(f"no story {story_id}")
    rec = story_record(store, st)
    if as_json:
        click.echo(json.dumps(rec, ensure_ascii=False, indent=2))
        return
    echo(f"{st.id}  {st.headline}")
    for e in rec["events"]:
        langs = " ".join(f"{k}:{v}" for k, v in e["languages"].items())
        echo(
            f"  {e['date'] or '?':10}  {e['id']}  {e['size']:>3} articles  "
            f"{langs:12}  {e['headline'][:80]}"
        )


COMMANDS = (events, show, export, stories, story, search)
