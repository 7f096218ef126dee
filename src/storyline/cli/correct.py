"""Commands that explain and correct decisions: ``why``, ``move``, ``merge``, ``split``,
``undo``, ``corrections``, and ``recluster`` (the whole archive again, corrections kept).

``why`` reads the store only; the corrections open the pipeline (its memory is read back from
the store, nothing is encoded) and write through it, so the next run respects them.
"""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING, Any

import click

from .common import (
    build_pipeline,
    db_option,
    echo,
    handle_errors,
    json_option,
    open_existing_store,
    print_table,
)

if TYPE_CHECKING:
    from ..model import Correction


def _author(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return ""


author_option = click.option(
    "--author", default=None, help="Who makes the correction (default: the login name)."
)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.command()
@click.argument("article_id", required=False)
@click.option("--pair", nargs=2, default=None, metavar="A B", help="Explain two stored articles.")
@db_option
@json_option("Print the explanation as JSON.")
@handle_errors
def why(article_id: str | None, pair: tuple[str, str] | None, db: str, as_json: bool) -> None:
    """Why ARTICLE_ID is in its event: the candidates the decision scored, the evidence for
    the best ones (shared names and numbers, aligned sentences, date gap, cosines) and the
    probability against the threshold, recomputed from stored data.

    With --pair A B: the same evidence for two stored articles.
    """
    from ..errors import InputError
    from ..explain import Explainer, explain_lines, pair_lines

    if (article_id is None) == (pair is None):
        raise InputError("give either ARTICLE_ID or --pair A B")
    store = open_existing_store(db)
    ex = Explainer.for_store(store)
    if pair is not None:
        result = ex.pair(*pair)
        lines = [f"{pair[0]} ~ {pair[1]}", *pair_lines(result, "  ")]
    else:
        assert article_id is not None
        result = ex.article(article_id)
        lines = explain_lines(result)
    if as_json:
        _print_json(result)
        return
    for line in lines:
        echo(line)


def _done(c: Correction, as_json: bool) -> None:
    if as_json:
        _print_json(c.to_json())
        return
    detail = {k: v for k, v in c.to_json().items() if k not in ("id", "action", "at", "author", "undone_at", "undone_by")}
    echo(f"correction {c.id}: {c.action} {json.dumps(detail, ensure_ascii=False)}")
    if c.undone_at:
        echo(f"undone at {c.undone_at} by {c.undone_by or '?'}")


@click.command()
@click.argument("article_id")
@click.option("--to", "to", required=True, help="The event id to move it to, or 'new'.")
@db_option
@author_option
@json_option("Print the correction as JSON.")
@handle_errors
def move(article_id: str, to: str, db: str, author: str | None, as_json: bool) -> None:
    """Move ARTICLE_ID to another event (--to EVENT) or to a new one (--to new); later runs
    keep it there."""
    from ..corrections import Corrector

    open_existing_store(db).close()
    c = Corrector(build_pipeline(db)).move(article_id, None if to == "new" else to, _author(author))
    _done(c, as_json)


@click.command()
@click.argument("first")
@click.argument("second")
@db_option
@author_option
@json_option("Print the correction as JSON.")
@handle_errors
def merge(first: str, second: str, db: str, author: str | None, as_json: bool) -> None:
    """Merge two events into one (the older id survives; the other keeps resolving)."""
    from ..corrections import Corrector

    open_existing_store(db).close()
    _done(Corrector(build_pipeline(db)).merge(first, second, _author(author)), as_json)


@click.command()
@click.argument("event_id")
@click.argument("article_ids", nargs=-1, required=True)
@db_option
@author_option
@json_option("Print the correction as JSON.")
@handle_errors
def split(event_id: str, article_ids: tuple[str, ...], db: str, author: str | None, as_json: bool) -> None:
    """Split ARTICLE_IDS off EVENT_ID into an event of their own (the part with the oldest
    article keeps the id)."""
    from ..corrections import Corrector

    open_existing_store(db).close()
    _done(Corrector(build_pipeline(db)).split(event_id, article_ids, _author(author)), as_json)


@click.command()
@click.argument("correction_id")
@db_option
@author_option
@json_option("Print the correction as JSON.")
@handle_errors
def undo(correction_id: str, db: str, author: str | None, as_json: bool) -> None:
    """Undo a correction: its constraints go and its articles return where they were."""
    from ..corrections import Corrector

    open_existing_store(db).close()
    _done(Corrector(build_pipeline(db)).undo(correction_id, _author(author)), as_json)


@click.command()
@db_option
@json_option("Print JSON lines instead of a table.")
@handle_errors
def corrections(db: str, as_json: bool) -> None:
    """List the corrections (oldest first) with their time, author and state."""
    items = open_existing_store(db).corrections()
    if as_json:
        for c in items:
            click.echo(json.dumps(c.to_json(), ensure_ascii=False))
        return
    print_table(
        ("id", "action", "at", "author", "state"),
        ((c.id, c.action, c.at, c.author, "active" if c.active else f"undone {c.undone_at}") for c in items),
    )


@click.command()
@db_option
@handle_errors
def recluster(db: str) -> None:
    """Decide every stored article again from scratch (batch, from the stored vectors), with
    the corrections kept; ids that no longer exist resolve to where their articles went."""
    from ..recluster import recluster as run

    open_existing_store(db).close()
    echo(f"storyline: {run(build_pipeline(db)).summary()}", err=True)


COMMANDS = (why, move, merge, split, undo, corrections, recluster)
