"""Commands that read an existing store: ``events``, ``show``, ``export``, ``stories``, ``story``.

None of them creates a store: a missing ``--db`` file is an error.
"""

from __future__ import annotations

import csv
import json

import click

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


@click.command()
@db_option
@click.option("--limit", default=50, show_default=True, help="How many events (largest first).")
@handle_errors
def events(db: str, limit: int) -> None:
    """List events: id, date, number of articles, languages, headline."""
    store = open_existing_store(db)
    evs = sorted(store.iter_events(), key=lambda e: (-e.size, e.id))[:limit]
    print_events_table(evs)


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
    from ..describe.anatomy import in_language
    from ..errors import NotFound
    from ..store.export import event_record

    store = open_existing_store(db)
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
        echo(f"({event_id} was merged into {ev.id})")
    echo(f"{ev.id}  {ev.headline or ev.title}")
    echo(f"date: {ev.date or '?'}  articles: {ev.size}  languages: {rec['languages']}")
    echo(f"story: {ev.story}")
    if ev.summary:
        echo(f"summary: {ev.summary}")
    if ev.keyphrases:
        echo("keyphrases: " + ", ".join(ev.keyphrases))
    if ev.entities:
        echo("entities: " + ", ".join(f"{name} ({n})" for _, name, n in ev.entities[:12]))
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
@click.option("--limit", default=30, show_default=True)
@handle_errors
def stories(db: str, limit: int) -> None:
    """List stories: id, span of dates, number of events, headline."""
    store = open_existing_store(db)
    sts = sorted(store.iter_stories(), key=lambda s: (-len(s.event_ids), s.id))[:limit]
    print_table(
        ("story", "from", "to", "events", "headline"),
        (
            (s.id, str(s.start or "?"), str(s.end or "?"), str(len(s.event_ids)), s.headline[:100])
            for s in sts
        ),
    )


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


COMMANDS = (events, show, export, stories, story)
