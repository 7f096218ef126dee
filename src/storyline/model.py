"""The data model: articles in, assignments, events and stories out.

Everything here is plain data. Stages read and produce these objects; the store persists them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

__all__ = [
    "Article",
    "Assignment",
    "Correction",
    "Event",
    "Merge",
    "Processed",
    "Quarantined",
    "Story",
    "content_hash",
    "short_id",
]


def content_hash(text: str, title: str | None = None) -> str:
    """A stable hash of what an article says (title and text), hex, 16 chars.

    >>> content_hash("Hello") == content_hash("Hello")
    True
    >>> content_hash("Hello") != content_hash("Hello", title="A title")
    True
    """
    h = hashlib.sha256()
    h.update((title or "").strip().encode("utf-8"))
    h.update(b"\x00")
    h.update(text.strip().encode("utf-8"))
    return h.hexdigest()[:16]


def utc_now() -> str:
    """The current UTC time as an ISO string (seconds): creation and merge times."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def short_id(prefix: str, seed: str) -> str:
    """A short readable id such as ``ev-3f2a9c01`` derived from ``seed``."""
    return f"{prefix}-{hashlib.sha1(seed.encode('utf-8')).hexdigest()[:10]}"


@dataclass(frozen=True)
class Article:
    """One news text as it came in.

    ``id`` is the caller's id, the file stem, or (when neither is given) the content hash:
    ``Article(text="...")`` gets that hash as its id. ``published`` is the publication date
    when known. ``origin`` says where it was read (``path:line``) for error messages.

    >>> Article(text="Hello").id == content_hash("Hello")
    True
    """

    id: str = ""
    text: str = ""
    title: str | None = None
    lang: str | None = None
    published: dt.date | None = None
    source: str | None = None
    url: str | None = None
    origin: str | None = None
    published_precision: str = "day"  # "day", "month", "year" (seed header " date 2024-01")

    def __post_init__(self) -> None:
        if self.id is None or self.id == "":
            text = self.text if isinstance(self.text, str) else ""
            title = self.title if isinstance(self.title, str) else None
            object.__setattr__(self, "id", content_hash(text, title))

    @property
    def hash(self) -> str:
        return content_hash(self.text, self.title)


@dataclass
class Processed:
    """An article after cleaning, language id, dating and representation."""

    article: Article
    clean_text: str
    lang: str
    lang_confidence: float
    event_date: dt.date | None = None
    event_date_source: str | None = None  # e.g. "text:Thursday, June 11" or "published"
    title: str = ""  # the given title, or the first line when it reads as one
    sentences: list[str] = field(default_factory=list)
    entities: list[tuple[str, str, str]] = field(default_factory=list)  # (surface, label, key)

    @property
    def id(self) -> str:
        return self.article.id


@dataclass(frozen=True)
class Assignment:
    """The decision for one article: its family, event and story, with a score."""

    article_id: str
    event: str
    story: str
    family: str
    lang: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.article_id,
            "event": self.event,
            "story": self.story,
            "family": self.family,
            "lang": self.lang,
            "score": round(float(self.score), 4),
        }


@dataclass
class Event:
    """One real-world happening: its members and what is known about it."""

    id: str
    article_ids: list[str]
    created: str = ""  # ISO timestamp
    date: dt.date | None = None  # estimated date of the happening
    date_range: tuple[dt.date, dt.date] | None = None
    languages: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    title: str = ""
    headline: str = ""
    summary: str = ""
    keyphrases: list[str] = field(default_factory=list)
    entities: list[tuple[str, str, int]] = field(default_factory=list)  # (key, name, count)
    story: str | None = None

    @property
    def size(self) -> int:
        return len(self.article_ids)


@dataclass
class Story:
    """Events that continue one another, in order of event time."""

    id: str
    event_ids: list[str]
    headline: str = ""
    summary: str = ""
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class Merge:
    """A logged merge: ``loser`` now resolves to ``winner``."""

    kind: str  # "event" or "story"
    loser: str
    winner: str
    score: float
    at: str  # ISO timestamp
    reason: str = ""


@dataclass(frozen=True)
class Quarantined:
    """An article that failed in a run: kept with its error, never retried automatically
    (``storyline skipped --retry`` tries it again)."""

    article: Article
    error: str
    at: str  # ISO timestamp
    stored: bool = False  # the article is in the store (it failed after being stored)

    def to_json(self) -> dict[str, object]:
        a = self.article
        return {
            "id": a.id, "error": self.error, "at": self.at, "stored": self.stored,
            "origin": a.origin, "title": a.title, "text": a.text, "lang": a.lang,
            "published": a.published.isoformat() if a.published else None,
            "published_precision": a.published_precision, "source": a.source, "url": a.url,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, object]) -> Quarantined:
        pub = d.get("published")
        article = Article(
            id=str(d["id"]), text=str(d.get("text") or ""),
            title=d.get("title") if isinstance(d.get("title"), str) else None,  # type: ignore[arg-type]
            lang=d.get("lang") if isinstance(d.get("lang"), str) else None,  # type: ignore[arg-type]
            published=dt.date.fromisoformat(pub) if isinstance(pub, str) else None,
            source=d.get("source") if isinstance(d.get("source"), str) else None,  # type: ignore[arg-type]
            url=d.get("url") if isinstance(d.get("url"), str) else None,  # type: ignore[arg-type]
            origin=d.get("origin") if isinstance(d.get("origin"), str) else None,  # type: ignore[arg-type]
            published_precision=str(d.get("published_precision") or "day"),
        )  # fmt: skip
        return cls(article, str(d.get("error", "")), str(d.get("at", "")), bool(d.get("stored")))


@dataclass(frozen=True)
class Correction:
    """A person's correction (``move``, ``merge``, ``split``), kept as constraints.

    ``data`` holds what it decided: ``pins`` (article id -> pin group: one group must share an
    event, two groups must not), ``before`` (article id -> its event before) and the ids it
    made or merged. ``undone_at`` / ``undone_by`` are set when it was undone.
    """

    id: str
    action: str
    at: str  # ISO timestamp
    author: str = ""
    data: dict[str, object] = field(default_factory=dict)
    undone_at: str | None = None
    undone_by: str | None = None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "action": self.action, "at": self.at, "author": self.author,
            "undone_at": self.undone_at, "undone_by": self.undone_by, **{
                k: v for k, v in self.data.items() if k not in ("pins", "before")
            },
        }  # fmt: skip
