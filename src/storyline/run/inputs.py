"""What :meth:`~storyline.run.pipeline.Pipeline.run` accepts, turned into articles and skips.

A path (``str`` or :class:`~pathlib.Path`, ``-`` for stdin), a list mixing paths, dicts
(JSON-like records: ``{"id", "text", "title", "published", ...}``), :class:`Article` objects
and :class:`Skip` records, or a pandas/pyarrow table (one article per row). Every article
then goes through :func:`~storyline.prepare.guard.check_article`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError
from ..ingest import Skip, read_inputs
from ..ingest.base import Reader
from ..ingest.jsonl import article_from_record
from ..model import Article
from ..prepare.guard import check_article

log = logging.getLogger(__name__)

__all__ = ["collect"]


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
