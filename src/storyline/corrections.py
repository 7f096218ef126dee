"""People's corrections that last: move, merge, split and undo, kept as constraints.

A correction changes the events at once and is logged (time, author) with the constraints it
sets: it *pins* the articles it touched into groups (one group must share an event, two
groups must not; see :mod:`storyline.cluster.constraints`). Later runs, repairs, restarts and
re-clustering read the pins of the corrections not undone and respect them, so a fixed
decision stays fixed as news arrives.

Ids stay stable: a merge keeps the older event's id and logs the other as merged (it keeps
resolving); a split keeps the old id on the part with the oldest member; an event emptied by
a move is logged as merged into where its article went; undo brings back the ids it had.
Stories follow: every event a correction changed is described and linked again.

>>> from storyline import Pipeline, Article
>>> from storyline.represent.encoder import HashingEncoder
>>> p = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
>>> r = p.run([Article("a", "Quake hits Chile, 12 dead.", lang="en"),
...            Article("b", "Quake hits Chile: 12 people died.", lang="en")])
>>> c = Corrector(p).move("b", None, author="ana")
>>> p.store.get_assignment("a").event != p.store.get_assignment("b").event
True
>>> _ = Corrector(p).undo(c.id, author="ana")
>>> p.store.get_assignment("a").event == p.store.get_assignment("b").event
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .errors import InputError, NotFound
from .model import Assignment, Correction, Merge, utc_now

if TYPE_CHECKING:
    from .run.pipeline import Pipeline

__all__ = ["CorrectionError", "Corrector"]

log = logging.getLogger(__name__)


class CorrectionError(InputError):
    """A correction that cannot be made as asked (the message says why)."""

    code = "bad_correction"
    exit_code = 2


class Corrector:
    """Applies corrections through one pipeline (its clusterer, linker and store)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipe = pipeline

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.pipe.store

    # -- the corrections ---------------------------------------------------------------------
    def move(self, article_id: str, to: str | None, author: str = "") -> Correction:
        """Move an article to event ``to`` (any id that resolves to it), or to a new event of
        its own when ``to`` is None (or ``"new"``)."""
        with self._session():
            cl = self.pipe.clusterer
            if article_id not in cl.event_of_:
                raise NotFound(f"no assigned article {article_id!r}")
            old = cl.event_of_[article_id]
            cid = _new_id("move")
            rest = [a for a in cl.members_[old] if a != article_id]
            if to is None or to == "new":
                if not rest:
                    raise CorrectionError(f"{article_id} is already alone in its event {old}")
                target, together = cl._new_event_id(article_id), [article_id]
            else:
                target = self._live(to)
                if target == old:
                    raise CorrectionError(f"{article_id} is already in event {old}")
                together = [*cl.members_[target], article_id]
            pins = {a: f"{cid}/1" for a in together}
            pins.update({a: f"{cid}/2" for a in rest})
            data = {"article": article_id, "from": old, "to": target, "pins": pins, "before": {article_id: old}}
            return self._apply(Correction(cid, "move", utc_now(), author, data), {article_id: target}, [])

    def merge(self, first: str, second: str, author: str = "") -> Correction:
        """Merge two events: the older id survives, the other is logged as merged into it."""
        with self._session():
            cl = self.pipe.clusterer
            e1, e2 = self._live(first), self._live(second)
            if e1 == e2:
                raise CorrectionError(f"{first} and {second} are the same event ({e1})")
            winner, loser = (e1, e2) if cl.created_[e1] <= cl.created_[e2] else (e2, e1)
            cid = _new_id("merge")
            members = [*cl.members_[winner], *cl.members_[loser]]
            data = {
                "events": [e1, e2], "winner": winner, "loser": loser,
                "pins": {a: f"{cid}/1" for a in members},
                "before": {a: loser for a in cl.members_[loser]},
            }  # fmt: skip
            merge = Merge("event", loser, winner, 1.0, utc_now(), f"correction {cid}")
            target = {a: winner for a in cl.members_[loser]}
            return self._apply(Correction(cid, "merge", merge.at, author, data), target, [merge])

    def split(self, event: str, article_ids: Sequence[str], author: str = "") -> Correction:
        """Split ``article_ids`` off ``event``: the part with the oldest member (earliest
        date, then first stored) keeps the event's id, the other part gets a new one."""
        with self._session():
            cl = self.pipe.clusterer
            ev = self._live(event)
            members = cl.members_[ev]
            picked = list(dict.fromkeys(article_ids))
            strangers = [a for a in picked if a not in members]
            if strangers:
                raise CorrectionError(f"not in event {ev}: {', '.join(strangers)}")
            rest = [a for a in members if a not in picked]
            if not picked or not rest:
                raise CorrectionError("a split needs some of the event's articles, not none or all")
            oldest = self._oldest(members)
            keep, leave = (rest, picked) if oldest in rest else (picked, rest)
            new = cl._new_event_id(leave[0])
            cid = _new_id("split")
            pins = {a: f"{cid}/1" for a in keep}
            pins.update({a: f"{cid}/2" for a in leave})
            data = {"event": ev, "new": new, "articles": picked, "pins": pins, "before": {a: ev for a in leave}}
            return self._apply(Correction(cid, "split", utc_now(), author, data), {a: new for a in leave}, [])

    def undo(self, correction_id: str, author: str = "") -> Correction:
        """Undo a correction: its constraints go, its articles go back to the events they
        were in (ids a merge or a move had retired come back)."""
        with self._session():
            items = self.store.corrections()
            found = [c for c in items if c.id == correction_id]
            if not found:
                raise NotFound(f"no correction {correction_id!r}")
            c = found[0]
            if not c.active:
                raise CorrectionError(f"correction {c.id} was already undone at {c.undone_at}")
            later = [
                d for d in items[items.index(c) + 1 :]
                if d.active and set(d.data.get("pins", {})) & set(c.data.get("pins", {}))  # type: ignore[arg-type]
            ]
            if later:
                raise CorrectionError(f"undo the later correction {later[-1].id} first (it touches the same articles)")
            before: dict[str, str] = dict(c.data.get("before", {}))  # type: ignore[call-overload]
            cl = self.pipe.clusterer
            target = {a: ev for a, ev in before.items() if a in cl.event_of_ and cl.event_of_[a] != ev}
            at = utc_now()
            self.store.mark_undone(c.id, at, author)
            undone = Correction(c.id, c.action, c.at, c.author, c.data, at, author)
            return self._apply(undone, target, [], log_correction=False)

    def list(self) -> list[Correction]:
        """Every correction, oldest first (undone ones included)."""
        return self.store.corrections()  # type: ignore[no-any-return]

    # -- internals ---------------------------------------------------------------------------
    def _session(self):  # type: ignore[no-untyped-def]
        """The pipeline's writer lock, after catching up with other writers."""
        import contextlib

        pipe = self.pipe

        @contextlib.contextmanager
        def session():  # type: ignore[no-untyped-def]
            with pipe.store.writer_lock():
                if pipe.store.get_state("generation") != pipe._generation:
                    pipe._reset_memory()
                    pipe._restore()
                yield

        return session()

    def _live(self, some_id: str) -> str:
        ev = self.store.resolve("event", some_id)
        if ev not in self.pipe.clusterer.members_:
            raise NotFound(f"no event {some_id!r}")
        return ev  # type: ignore[no-any-return]

    def _oldest(self, ids: Sequence[str]) -> str:
        order = {a: n for n, a in enumerate(ids)}
        best: tuple[dt.date, int, str] | None = None
        for p in self.store.iter_articles(ids):
            d = p.article.published or p.event_date or dt.date.max
            key = (d, order[p.id], p.id)
            best = key if best is None or key < best else best
        return best[2] if best else ids[0]

    def _apply(
        self, correction: Correction, target: dict[str, str], merges: list[Merge],
        log_correction: bool = True,
    ) -> Correction:
        """Put the articles of ``target`` into their events, log the correction, describe and
        link every event it changed; the clusterer's memory is then read back from the store
        (with the new pins), as after a restart."""
        pipe, store, cl = self.pipe, self.store, self.pipe.clusterer
        old = {a: cl.event_of_[a] for a in target}
        after: dict[str, list[str]] = {}
        for ev in {*old.values(), *target.values()}:
            after[ev] = [a for a in cl.members_.get(ev, []) if target.get(a, ev) == ev]
            after[ev] += [a for a, t in target.items() if t == ev and old[a] != ev]
        gone = {m.loser for m in merges}
        for ev, members in after.items():  # an event a move emptied: merged into where it went
            if not members and ev not in gone:
                went = Counter(target[a] for a in old if old[a] == ev).most_common(1)[0][0]
                merges.append(Merge("event", ev, went, 1.0, utc_now(), f"correction {correction.id}"))
                gone.add(ev)
        try:
            with store.transaction():
                if log_correction:
                    store.add_correction(correction)
                for ev, members in after.items():  # an id a merge or move retired comes back (undo)
                    if members and store.resolve("event", ev) != ev:
                        store.record_merge(Merge("event", ev, ev, 1.0, utc_now(), f"revived: undo {correction.id}"))
                stored = {a.article_id: a for a in map(store.get_assignment, target) if a is not None}
                store.put_assignments(
                    Assignment(a, ev, stored[a].story, stored[a].family, stored[a].lang, 1.0)
                    for a, ev in target.items() if a in stored
                )  # fmt: skip
                pipe._reset_memory()
                pipe._restore()  # the clusterer as the store now says, pins included
                order = sorted(ev for ev, m in after.items() if m and ev not in gone)
                pipe.writer.write_events(order, set(), {}, merges)
                pipe._generation = str(uuid.uuid4())
                store.set_state("generation", pipe._generation)
        except BaseException:
            pipe._reset_memory()  # the store rolled back: so does memory
            pipe._restore()
            raise
        log.info("correction %s (%s) by %s", correction.id, correction.action, correction.author or "?")
        return correction


def _new_id(action: str) -> str:
    seed = f"{action}:{utc_now()}:{uuid.uuid4()}"
    return f"c-{hashlib.sha1(seed.encode()).hexdigest()[:8]}"


def resolve_articles(ids: Iterable[str]) -> list[str]:
    """Article ids as given on a command line (blank ones are an input error)."""
    out = [a.strip() for a in ids]
    if not out or any(not a for a in out):
        raise InputError("give at least one article id")
    return out
