"""``storyline follow``: saved searches and what is new for them (``add``, ``list``,
``remove``, ``news``). ``news --notify CMD`` runs CMD with the JSON of each match; run it
after each ingest (or from cron) to be told when something followed happens."""

from __future__ import annotations

import json
import sys

import click

from .common import (
    EXIT_SKIPPED,
    db_option,
    echo,
    handle_errors,
    json_option,
    open_existing_store,
    print_table,
)


@click.group()
def follow() -> None:
    """Saved searches: follow words, an entity or an example event; see what is new."""


@follow.command("add")
@click.argument("query")
@db_option
@click.option("--entity", "kind", flag_value="entity", help="QUERY is an entity key (country:IQ) or name.")
@click.option("--event", "kind", flag_value="event", help="QUERY is an example event: follow its story.")
@click.option("--lang", multiple=True, help="Only events with articles in this language (repeatable).")
@handle_errors
def follow_add(query: str, db: str, kind: str | None, lang: tuple[str, ...]) -> None:
    """Save a search: QUERY's words must all appear in an event's headline, summary, key
    phrases or entity names (or --entity, --event)."""
    from ..follow import Follow, add

    store = open_existing_store(db)
    f = add(store, Follow.make(query, kind or "words", lang))
    echo(f"{f.id}  {f.label()}")


@follow.command("list")
@db_option
@json_option("Print JSON lines instead of a table.")
@handle_errors
def follow_list(db: str, as_json: bool) -> None:
    """List the saved searches (their Atom feeds are /feeds/follows/ID.atom)."""
    from dataclasses import asdict

    from ..follow import follows

    items = follows(open_existing_store(db))
    if as_json:
        for f in items:
            click.echo(json.dumps(asdict(f), ensure_ascii=False))
        return
    print_table(("id", "kind", "query", "languages", "since"), ((f.id, f.kind, f.query, " ".join(f.lang), f.created) for f in items))


@follow.command("remove")
@click.argument("follow_id")
@db_option
@handle_errors
def follow_remove(follow_id: str, db: str) -> None:
    """Delete a saved search."""
    from ..follow import remove

    remove(open_existing_store(db), follow_id)


@follow.command("news")
@db_option
@click.option("--since", default=None, help="ISO date/time or age (3h, 2d, 1w); default: since the last `follow news`.")
@click.option("--notify", "command", default=None, help="Run this command once per match, its JSON on stdin.")
@json_option("Print one JSON object per match.")
@handle_errors
def follow_news(db: str, since: str | None, command: str | None, as_json: bool) -> None:
    """New events and new articles of followed events since --since, for every saved search."""
    import datetime as dt

    from ..follow import LAST_KEY, news, notify, parse_since

    store = open_existing_store(db)
    checked = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    found = news(store, parse_since(since, store))
    if as_json:
        for m in found:
            click.echo(json.dumps(m.to_json(), ensure_ascii=False))
    else:
        print_table(
            ("search", "what", "event", "date", "articles", "headline"),
            ((m.follow.query, m.kind, m.event.id, m.event.date.isoformat() if m.event.date else "",
              str(len(m.articles)), m.event.headline or m.event.title) for m in found),
        )  # fmt: skip
    failed = notify(command, found) if command else 0
    store.set_state(LAST_KEY, parse_since(checked))
    echo(f"storyline: {len(found)} match(es)" + (f", {failed} notification(s) failed" if failed else ""), err=True)
    if failed:
        sys.exit(EXIT_SKIPPED)


COMMANDS = (follow,)
