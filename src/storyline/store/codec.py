"""Plain-data codecs shared by the stores: dates as ISO strings, events and stories as JSON,
articles as one flat row of columns.

These are storage-neutral (SQLite today, Postgres later) so every store writes the same shapes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from ..model import Article, Assignment, Event, Processed, Story

__all__ = [
    "ARTICLE_COLUMNS",
    "article_row",
    "assignment_from_row",
    "dumps",
    "event_from_json",
    "event_to_json",
    "iso",
    "parse_date",
    "processed_from_row",
    "story_from_json",
    "story_to_json",
]

ARTICLE_COLUMNS = (
    "id", "hash", "title", "display_title", "text", "clean_text", "given_lang", "lang",
    "lang_confidence", "published", "published_precision", "event_date", "event_date_source",
    "source", "url", "origin", "sentences", "entities",
)  # fmt: skip


def iso(value: dt.date | None) -> str | None:
    """``date`` (or ``datetime``) → ISO string; None stays None."""
    return None if value is None else value.isoformat()


def parse_date(value: str | None) -> dt.date | None:
    """ISO string → ``date`` (a time part, if any, is dropped)."""
    return None if value is None else dt.date.fromisoformat(value[:10])


def dumps(value: object) -> str:
    """Compact JSON that keeps non-ASCII text readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def article_row(item: Processed) -> tuple[Any, ...]:
    """The values of :data:`ARTICLE_COLUMNS` for one processed article."""
    a = item.article
    return (
        a.id, a.hash, a.title, item.title, a.text, item.clean_text, a.lang, item.lang,
        float(item.lang_confidence), iso(a.published), a.published_precision,
        iso(item.event_date), item.event_date_source, a.source, a.url, a.origin,
        dumps(list(item.sentences)), dumps([list(e) for e in item.entities]),
    )  # fmt: skip


def processed_from_row(row: Mapping[str, Any]) -> Processed:
    """Inverse of :func:`article_row` (``row`` maps column names to values)."""
    article = Article(
        id=row["id"], text=row["text"], title=row["title"], lang=row["given_lang"],
        published=parse_date(row["published"]), source=row["source"], url=row["url"],
        origin=row["origin"], published_precision=row["published_precision"],
    )  # fmt: skip
    return Processed(
        article=article, clean_text=row["clean_text"], lang=row["lang"],
        lang_confidence=row["lang_confidence"], event_date=parse_date(row["event_date"]),
        event_date_source=row["event_date_source"], title=row["display_title"],
        sentences=list(json.loads(row["sentences"])),
        entities=[tuple(e) for e in json.loads(row["entities"])],  # type: ignore[misc]
    )  # fmt: skip


def assignment_from_row(row: Mapping[str, Any]) -> Assignment:
    return Assignment(
        article_id=row["article_id"], event=row["event"], story=row["story"],
        family=row["family"], lang=row["lang"], score=row["score"],
    )  # fmt: skip


def event_to_json(e: Event) -> str:
    """Every field of an :class:`Event` as one JSON object."""
    return dumps({
        "id": e.id, "article_ids": list(e.article_ids), "created": e.created,
        "date": iso(e.date),
        "date_range": None if e.date_range is None else [iso(d) for d in e.date_range],
        "languages": e.languages, "sources": e.sources, "title": e.title,
        "headline": e.headline, "summary": e.summary, "keyphrases": list(e.keyphrases),
        "entities": [list(x) for x in e.entities], "story": e.story,
    })  # fmt: skip


def event_from_json(data: str) -> Event:
    d = json.loads(data)
    rng = d.get("date_range")
    return Event(
        id=d["id"], article_ids=d["article_ids"], created=d.get("created", ""),
        date=parse_date(d.get("date")),
        date_range=None if rng is None else (parse_date(rng[0]), parse_date(rng[1])),  # type: ignore[arg-type]
        languages=d.get("languages", {}), sources=d.get("sources", {}),
        title=d.get("title", ""), headline=d.get("headline", ""), summary=d.get("summary", ""),
        keyphrases=d.get("keyphrases", []),
        entities=[tuple(x) for x in d.get("entities", [])],  # type: ignore[misc]
        story=d.get("story"),
    )  # fmt: skip


def story_to_json(s: Story) -> str:
    """Every field of a :class:`Story` as one JSON object."""
    return dumps({
        "id": s.id, "event_ids": list(s.event_ids), "headline": s.headline,
        "summary": s.summary, "start": iso(s.start), "end": iso(s.end),
    })  # fmt: skip


def story_from_json(data: str) -> Story:
    d = json.loads(data)
    return Story(
        id=d["id"], event_ids=d["event_ids"], headline=d.get("headline", ""),
        summary=d.get("summary", ""), start=parse_date(d.get("start")),
        end=parse_date(d.get("end")),
    )  # fmt: skip
