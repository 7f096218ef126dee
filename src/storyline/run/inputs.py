"""What :meth:`~storyline.run.pipeline.Pipeline.run` accepts, turned into articles and skips.

A path (``str`` or :class:`~pathlib.Path`, ``-`` for stdin), a list mixing paths, dicts
(JSON-like records: ``{"id", "text", "title", "published", ...}``), :class:`Article` objects
and :class:`Skip` records, or a pandas/pyarrow table (one article per row). Every article
then goes through :func:`~storyline.prepare.guard.check_article`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError
from ..ingest import Skip, read_inputs
from ..ingest.base import Reader
from ..ingest.jsonl import article_from_record
from ..model import Article, Assignment, Merge, Quarantined
from ..prepare.guard import check_article
from ..store.base import Store

log = logging.getLogger(__name__)
skip_log = logging.getLogger("storyline.skips")  # one warning per skipped input

__all__ = ["collect", "triage"]


def _table_rows(table: Any) -> Iterator[dict[str, Any]] | None:
    """The rows of a pandas DataFrame or a pyarrow Table as dicts; None for anything else."""
    if hasattr(table, "to_pylist") and hasattr(table, "column_names"):  # pyarrow.Table
        return iter(table.to_pylist())
    if hasattr(table, "to_dict") and hasattr(table, "columns") and hasattr(table, "iterrows"):
        return iter(table.to_dict("records"))
    return None


def _expand(
    inputs: Any, stdin: TextIO | None, readers: Sequence[Reader] | None
) -> Iterator[Article | Skip]:
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    rows = _table_rows(inputs)
    if rows is not None:
        for n, row in enumerate(rows, 1):
            yield article_from_record(row, f"<table>:{n}")
        return
    if isinstance(inputs, dict | Article | Skip):
        inputs = [inputs]
    if not isinstance(inputs, Iterable):
        raise InputError(f"cannot read articles from a {type(inputs).__name__}")
    items = list(inputs)
    paths = [str(x) for x in items if isinstance(x, str | Path)]
    missing = [p for p in paths if p != "-" and not Path(p).exists() and not Path(p).is_symlink()]
    if missing:  # before anything is read: a typo never leaves half a run behind
        raise InputError(f"{missing[0]}: no such file or directory")
    for n, x in enumerate(items, 1):
        if isinstance(x, str | Path):
            yield from read_inputs([str(x)], stdin=stdin, readers=readers)
        elif isinstance(x, dict):
            yield article_from_record(x, f"<input>:{n}")
        elif isinstance(x, Article | Skip):
            yield x
        else:
            yield Skip(f"<input>:{n}", f"not an article: {type(x).__name__}")


def collect(
    inputs: Any, stdin: TextIO | None = None, readers: Sequence[Reader] | None = None
) -> list[Article | Skip]:
    """Every input read and every article checked, in input order."""
    out: list[Article | Skip] = []
    for x in _expand(inputs, stdin, readers):
        if isinstance(x, Article):
            try:
                x = check_article(x)
            except Exception as exc:  # noqa: BLE001 - one odd object never stops a run
                x = Skip(str(getattr(x, "origin", None) or getattr(x, "id", "?")), f"unusable article: {exc}")
            if isinstance(x, Article) and not (isinstance(x.text, str) and x.text.strip()):
                x = Skip(x.origin or x.id, "missing or empty text")
        out.append(x)
    return out


@dataclass
class Triage:
    """A run's inputs sorted out against the store: the articles to store (by id), every
    input article id in input order, how many were stored already, and the skips."""

    fresh: dict[str, Article] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    known: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def skip(self, skip: Skip) -> None:
        self.skipped.append(skip)
        skip_log.warning("skipped %s: %s", skip.origin, skip.reason)


def triage(
    items: Iterable[Article | Skip], store: Store, held: Mapping[str, Quarantined] | None = None
) -> Triage:
    """Which inputs are new, which the store has (the same id with other text is a skip:
    the stored one is kept), which repeat an id of this run with other text, which were
    quarantined by an earlier run (``held``: by article id)."""
    out = Triage()
    held = held if held is not None else {q.article.id: q for q in store.quarantined()}
    fresh, seen = out.fresh, set()
    for x in items:
        if isinstance(x, Article) and x.id in held and not store.has_article(x.id):
            why = held[x.id].error
            x = Skip(x.origin or x.id, f"quarantined earlier ({why}); retry with `storyline skipped --retry`")
        if isinstance(x, Skip):
            out.skip(x)
            continue
        if x.id in fresh:
            if fresh[x.id].hash != x.hash:
                out.skip(Skip(x.origin or x.id, f"duplicate id {x.id!r} with different text"))
            continue
        if x.id not in seen:  # (a set: a list's membership test is quadratic at 100k)
            seen.add(x.id)
            out.order.append(x.id)
        if store.has_article(x.id):
            out.known += 1
            stored = store.get_article(x.id)
            if stored is not None and stored.article.hash != x.hash:
                out.skip(Skip(x.origin or x.id, f"duplicate id {x.id!r} with different text (kept the stored one)"))
            continue
        fresh[x.id] = x
    return out


@dataclass
class RunReport:
    """What one run did: assignments of its input articles, skips with reasons, merges."""

    assignments: list[Assignment] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    new: int = 0
    known: int = 0
    merges: list[Merge] = field(default_factory=list)

    def summary(self) -> str:
        reasons: dict[str, int] = {}
        for s in self.skipped:
            kind = s.reason.split(": ")[0].split(" (")[0]
            reasons[kind] = reasons.get(kind, 0) + 1
        why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        events = len({a.event for a in self.assignments})
        return (
            f"{self.new} new, {self.known} already stored, {len(self.skipped)} skipped"
            + (f" ({why})" if why else "")
            + f"; {events} events, {len(self.merges)} merges"
        )
