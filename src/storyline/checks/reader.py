"""The reader check: a reader says by the path alone whether it reads a file, and reads it into
well-formed :class:`~storyline.model.Article` and :class:`~storyline.ingest.base.Skip` records,
the same ones every time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..ingest.base import Skip
from ..model import Article
from .common import built, expect, label_of, missing_members

PRECISIONS = ("day", "month", "year")
OPTIONAL_STR = ("title", "lang", "source", "url", "origin")


def check_reader(reader: Any, path: str | Path, *, min_articles: int = 1) -> None:
    """Check a :class:`~storyline.ingest.base.Reader` (or a zero-argument factory of one) on a
    sample file ``path`` that it reads.

    Verifies: ``accepts`` and ``read`` exist; ``accepts(path)`` is ``True`` and ``accepts``
    returns a bool without touching the file system (it is asked about paths that do not
    exist); ``read(path)`` yields only ``Article`` and ``Skip`` records, at least
    ``min_articles`` articles (0 for a reader that only skips, such as OPML lists); each
    article has a non-empty str ``id`` and ``text``, str-or-None ``title``, ``lang``,
    ``source``, ``url`` and ``origin``, a ``published`` that is a ``datetime.date`` (not a
    ``datetime``, which does not compare with dates) or None, and a ``published_precision`` of
    "day", "month" or "year"; each skip has a str ``origin`` and a non-empty ``reason``;
    reading again yields the same records in the same order.
    """
    path = str(path)
    expect(Path(path).is_file(), "check_reader", f"needs an existing sample file, not {path!r}")
    with built(reader, "read") as r:
        label = f"reader {label_of(r)}"
        missing = missing_members(r, ("accepts", "read"))
        expect(not missing, label, f"missing members of the Reader contract: {missing}")
        got = r.accepts(path)
        expect(got is True, label, f"accepts({path!r}) must be True for its sample file, got {got!r}")
        for other in (path + ".storyline-check-missing", "/nonexistent/storyline-check.unknown-suffix"):
            try:
                answer = r.accepts(other)
            except OSError as exc:
                raise AssertionError(
                    f"{label}: accepts({other!r}) must decide by the path, without opening it: {exc!r}"
                ) from exc
            expect(isinstance(answer, bool), label, f"accepts must return a bool, got {type(answer).__name__}")
        first = records(r, path, label)
        articles = [x for x in first if isinstance(x, Article)]
        expect(
            len(articles) >= min_articles, label,
            f"read({path!r}) yielded {len(articles)} articles, expected at least {min_articles}",
        )
        for x in first:
            if isinstance(x, Article):
                check_article(x, label)
            else:
                check_skip(x, label)
        expect(
            records(r, path, label) == first, label,
            f"reading {path!r} twice gave different records (read must be deterministic)",
        )


def records(r: Any, path: str, label: str) -> list[Article | Skip]:
    out = r.read(path)
    expect(
        isinstance(out, Iterable) and not isinstance(out, str | bytes), label,
        f"read must return an iterator of Article | Skip, got {type(out).__name__}",
    )
    items = list(out)
    for x in items:
        expect(
            isinstance(x, Article | Skip), label,
            f"read yielded a {type(x).__name__}; only storyline.model.Article and "
            "storyline.ingest.Skip are allowed",
        )
    return items


def check_article(a: Article, label: str) -> None:
    where = f"article {a.id!r}"
    expect(isinstance(a.id, str) and a.id.strip(), label, f"{where}: id must be a non-empty str")
    expect(isinstance(a.text, str) and a.text.strip(), label, f"{where}: text must be a non-empty str")
    for name in OPTIONAL_STR:
        v = getattr(a, name)
        expect(v is None or isinstance(v, str), label, f"{where}: {name} must be a str or None, got {v!r}")
    expect(
        a.published is None or (isinstance(a.published, dt.date) and not isinstance(a.published, dt.datetime)),
        label, f"{where}: published must be a datetime.date or None, got {a.published!r}",
    )
    expect(
        a.published_precision in PRECISIONS, label,
        f"{where}: published_precision must be one of {PRECISIONS}, got {a.published_precision!r}",
    )


def check_skip(s: Skip, label: str) -> None:
    expect(isinstance(s.origin, str), label, f"skip {s!r}: origin must be a str")
    expect(isinstance(s.reason, str) and s.reason.strip(), label, f"skip {s!r}: reason must be a non-empty str")
