"""Follow and alert: saved searches, what is new for them, and a hook to tell someone.

A saved search (:class:`Follow`) matches events by words (every word in the event's headline,
title, summary, key phrases or entity names), by an entity (its cross-lingual key, such as
``country:IQ``, or its name), or by an example event (the events of its story: what follows
it); optionally only events with articles in some languages. :func:`news` reports, for every
saved search, the events that are new since a time and the followed events that got new
articles since then; :func:`notify` runs a command with the JSON of each match on its stdin.
The saved searches live in the store (its ``follows`` state), so the CLI, the HTTP feeds
(:mod:`storyline.http.feeds`) and every process share them.

>>> f = Follow.make("Iraq coalition", lang=["en"])
>>> f.kind, f.words
('words', ['iraq', 'coalition'])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InputError, NotFound
from .model import Event, utc_now
from .store.base import Store
from .text import fold, fold_text

__all__ = ["Follow", "Match", "add", "follows", "matches", "news", "notify", "parse_since", "remove"]

log = logging.getLogger(__name__)

STATE_KEY = "follows"
LAST_KEY = "follows_checked"  # when `follow news` last reported (the default --since)
KINDS = ("words", "entity", "event")


@dataclass(frozen=True)
class Follow:
    """A saved search: ``query`` read as ``kind`` ("words", "entity" or "event")."""

    id: str
    query: str
    kind: str = "words"
    lang: list[str] = field(default_factory=list)
    created: str = ""

    @classmethod
    def make(cls, query: str, kind: str = "words", lang: Iterable[str] = ()) -> Follow:
        query = " ".join(str(query).split())
        if not query:
            raise InputError("a saved search needs words, an entity or an event id")
        if kind not in KINDS:
            raise InputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        langs = sorted({x.strip().lower() for x in lang if x.strip()})
        fid = "f-" + hashlib.sha1(f"{kind}\0{query}\0{','.join(langs)}".encode()).hexdigest()[:8]
        return cls(fid, query, kind, langs, utc_now())

    @property
    def words(self) -> list[str]:
        return [fold(w) for w in re.findall(r"\w[\w'-]*", self.query)]

    def label(self) -> str:
        what = {"words": "", "entity": "entity ", "event": "like event "}[self.kind]
        return f"{what}{self.query}" + (f" [{', '.join(self.lang)}]" if self.lang else "")


@dataclass
class Match:
    """One piece of news for a saved search: a new event, or new articles of a followed one."""

    follow: Follow
    event: Event
    kind: str  # "new event" or "new articles"
    articles: list[str]  # the event's articles stored since

    def to_json(self) -> dict[str, Any]:
        e = self.event
        return {
            "follow": self.follow.id, "query": self.follow.query, "kind": self.kind,
            "event": e.id, "headline": e.headline or e.title, "date": e.date.isoformat() if e.date else None,
            "size": e.size, "languages": e.languages, "story": e.story, "new_articles": self.articles,
        }  # fmt: skip


# -- the saved searches ---------------------------------------------------------------------------
def follows(store: Store) -> list[Follow]:
    raw = store.get_state(STATE_KEY)
    return [Follow(**d) for d in json.loads(raw)] if raw else []


def add(store: Store, follow: Follow) -> Follow:
    """Save a search (the same query, kind and languages is saved once)."""
    if follow.kind == "event" and store.get_event(follow.query) is None:
        raise NotFound(f"no event {follow.query!r}")
    with store.transaction():
        items = follows(store)
        if any(f.id == follow.id for f in items):
            return next(f for f in items if f.id == follow.id)
        store.set_state(STATE_KEY, json.dumps([asdict(f) for f in [*items, follow]], ensure_ascii=False))
    return follow


def remove(store: Store, follow_id: str) -> None:
    with store.transaction():
        items = follows(store)
        if not any(f.id == follow_id for f in items):
            raise NotFound(f"no saved search {follow_id!r}")
        store.set_state(STATE_KEY, json.dumps([asdict(f) for f in items if f.id != follow_id], ensure_ascii=False))


def get(store: Store, follow_id: str) -> Follow:
    for f in follows(store):
        if f.id == follow_id:
            return f
    raise NotFound(f"no saved search {follow_id!r}")


# -- matching ------------------------------------------------------------------------------------
def _haystack(e: Event) -> str:
    names = [n for _, n, _ in e.entities]
    return fold_text("\n".join([e.title, e.headline, e.summary, *e.keyphrases, *names]))


def _matcher(store: Store, f: Follow):  # type: ignore[no-untyped-def]
    """A predicate over events for ``f``."""
    langs = set(f.lang)

    def lang_ok(e: Event) -> bool:
        return not langs or bool(langs & set(e.languages))

    if f.kind == "words":
        words = f.words
        return lambda e: lang_ok(e) and all(re.search(rf"(?<!\w){re.escape(w)}", _haystack(e)) for w in words)
    if f.kind == "entity":
        want = fold(f.query)
        return lambda e: lang_ok(e) and any(fold(k) == want or fold(n) == want for k, n, _ in e.entities)
    example = store.get_event(f.query)
    story = example.story if example is not None else None

    def like(e: Event) -> bool:
        if not lang_ok(e):
            return False
        if story is not None and e.story is not None:
            return store.resolve("story", e.story) == store.resolve("story", story)
        return example is not None and e.id == example.id

    return like


def matches(store: Store, f: Follow, limit: int = 50) -> list[Event]:
    """The live events that match ``f``, newest first (what its feed lists)."""
    ok = _matcher(store, f)
    found = [e for e in store.iter_events() if ok(e)]
    found.sort(key=lambda e: (e.created, e.id), reverse=True)
    return found[:limit]


def parse_since(text: str | None, store: Store | None = None) -> str:
    """An ISO UTC timestamp from ``2024-05-01``, ``2024-05-01T12:00``, ``3h``, ``2d``, ``1w``
    (ago), or None: the last time news was reported (else the beginning)."""
    if text is None or not text.strip():
        last = store.get_state(LAST_KEY) if store is not None else None
        return last or "0000-01-01T00:00:00.000000+00:00"
    t = text.strip()
    m = re.fullmatch(r"(\d+)\s*([mhdw])", t)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        when = dt.datetime.now(dt.UTC) - dt.timedelta(**{unit: int(m.group(1))})
    else:
        try:
            when = dt.datetime.fromisoformat(t)
        except ValueError as exc:
            raise InputError(f"--since {t!r}: expected an ISO date or time, or an age such as 3h, 2d, 1w") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def news(store: Store, since: str, only: Iterable[str] | None = None) -> list[Match]:
    """For every saved search (or those of ``only``): events new since ``since`` (ISO UTC),
    and followed events that got articles since then, in the order they were stored."""
    ingested = getattr(store, "ingested_since", None)
    if ingested is None:
        raise InputError(f"{type(store).__name__} cannot say when articles were stored")
    fresh: dict[str, str] = ingested(since)
    wanted = None if only is None else set(only)
    items = [f for f in follows(store) if wanted is None or f.id in wanted]
    if not fresh or not items:
        return []
    of = store.events_for_articles(fresh) if hasattr(store, "events_for_articles") else {}  # type: ignore[attr-defined]
    touched: dict[str, list[str]] = {}
    for aid in fresh:
        if aid in of:
            touched.setdefault(of[aid], []).append(aid)
    events = [e for e in (store.get_event(ev) for ev in touched) if e is not None]
    since_s = since[:19]
    out = []
    for f in items:
        ok = _matcher(store, f)
        for e in events:
            if ok(e):
                new = e.created[:19] >= since_s and len(touched[e.id]) == e.size
                out.append(Match(f, e, "new event" if new else "new articles", touched[e.id]))
    return out


def notify(command: str, found: Iterable[Match], timeout: float = 60.0) -> int:
    """Run ``command`` (split like a shell would, not run by one) once per match with its JSON
    on stdin. Returns how many runs failed (each is logged)."""
    argv = shlex.split(command)
    if not argv:
        raise InputError("--notify needs a command")
    failed = 0
    for m in found:
        payload = json.dumps(m.to_json(), ensure_ascii=False)
        try:
            done = subprocess.run(argv, input=payload, text=True, timeout=timeout, check=False, capture_output=True)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("notify %s failed: %s", argv[0], exc)
            failed += 1
            continue
        if done.returncode != 0:
            log.warning("notify %s exited %d: %s", argv[0], done.returncode, done.stderr.strip()[:200])
            failed += 1
    return failed
