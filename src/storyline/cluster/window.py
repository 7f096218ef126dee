"""Memory that follows the time window: the online clusterer's retiring of old events.

With a ``loader`` (the pipeline reads features back from its store), events whose date falls
``hold_days`` (default: the window) behind the newest article are repaired one last time and
*retired*: their members' features are dropped. Their names and numbers lead to them until
they fall ``retire_days`` behind (default: twice the window), so that the candidates found
through names are those of holding every event that long (one outside an article's window is
not read back; one within it, or met by a repair, is revived). They keep their id,
members, centroid (still in the ANN index), date and their members' tf-idf weights (a tenth
of the features: a revived member scores as before, whatever the term counts became since).
A late article or a repair that meets a retired event in its window revives it through the
loader (an undated article is in every event's window); one a repair revived only to compare
it goes again when the repair ends (:meth:`retire_revived`). A large event is only ever
compared through its first and latest members, so the features of the members in between are
dropped as it grows (:meth:`_trim`).

:class:`WindowMemory` is a mixin of :class:`~storyline.cluster.online.OnlineClusterer`, which
owns the state it works on.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from ..represent.features import ArticleFeatures
from .keyindex import KeyIndex


class WindowMemory:
    """Retiring, trimming and reviving events (mixed into the online clusterer)."""

    # the clusterer's parameters and state this works on
    loader: Callable[[Sequence[str]], Sequence[ArticleFeatures]] | None
    retire_days: int
    hold_days: int
    max_members: int
    link_members: int
    uncovered_members: int
    feats_: dict[str, ArticleFeatures]
    members_: dict[str, list[str]]
    created_: dict[str, int]
    key_events_: KeyIndex
    retired_: set[str]
    revivals_: int
    _thin: dict[str, tuple[dt.date | None, bool]]
    _thin_keys: dict[str, set[str]]
    _retired_terms: dict[str, bytes | tuple[np.ndarray, np.ndarray]]
    _settled: set[str]
    _named: dict[str, tuple[str, ...]]
    _newest: dt.date | None
    _since_retire: int

    def event_date(self, ev: str) -> dt.date | None: ...  # (the clusterer's)

    def _repair_around(self, ev: str) -> bool: ...  # (the clusterer's)

    def retire_old(self, repair: bool = True) -> int:
        """Retire the events ``hold_days`` behind the newest article, and let the names of
        those ``retire_days`` behind lead to them no more (``learn_one`` does it every
        ``retire_every`` articles). ``repair``: after one last :meth:`_repair_around`, as
        :meth:`repair` would have done at the end of the run. Returns how many retired."""
        self._since_retire = 0
        horizon = self._horizon()
        if horizon is None:
            return 0
        before = len(self.retired_)
        was_retired = set(self.retired_)
        old = [
            ev for ev in self.members_
            if ev not in self.retired_ and (d := self.event_date(ev)) is not None and d < horizon
        ]
        for ev in sorted(old, key=lambda e: self.created_[e]):
            if repair and ev in self.members_ and ev not in self._settled:
                self._repair_around(ev)
            if ev in self.members_ and ev not in self.retired_:
                d = self.event_date(ev)
                if d is not None and d < horizon:  # a merge may have made it younger
                    self._retire(ev)
        names = self._horizon(names=True)
        for ev in sorted(self._named, key=lambda e: self.created_[e]):
            if (d := self.event_date(ev)) is not None and names is not None and d < names:
                self._unname(ev, self._named.pop(ev))
        self.retire_revived(was_retired)
        return len(self.retired_) - before

    def _horizon(self, names: bool = False) -> dt.date | None:
        """Events dated before this are retired (None: nothing is); ``names``: their names
        no longer lead to them."""
        days = self.retire_days if names else self.hold_days
        if self.loader is None or days <= 0 or self._newest is None:
            return None
        return self._newest - dt.timedelta(days=days)

    def retire_revived(self, was_retired: set[str]) -> None:
        """Retire again the events of ``was_retired`` revived since (a repair compared them
        with a younger neighbour) that are unchanged and still behind the horizon: reading
        them back costs less than holding them until the next :meth:`retire_old`."""
        horizon = self._horizon()
        if horizon is None:
            return
        back = [ev for ev in was_retired if ev not in self.retired_ and ev in self._settled]
        for ev in sorted(back, key=lambda e: self.created_[e]):
            if ev in self.members_ and (d := self.event_date(ev)) is not None and d < horizon:
                self._retire(ev)

    def _meta(self, a: str) -> tuple[dt.date | None, bool]:
        """(date, covered) of a member, whether its features are held or not."""
        f = self.feats_.get(a)
        return (f.date, f.covered) if f is not None else self._thin[a]

    def _trim(self, ev: str) -> None:
        """Drop the features of a large event's members that no sample can pick any more:
        samples take the first and latest members (of all, or of those the sentence encoder
        covers), and members are only ever appended."""
        ids = self.members_[ev]
        h = max(self.max_members, self.link_members, self.uncovered_members) // 2
        if len(ids) <= 2 * h:
            return
        need = set(ids[:h]) | set(ids[-h:])
        covered = [a for a in ids if self._meta(a)[1]]
        need.update(covered[:h])
        need.update(covered[-h:])
        keys = None
        for a in ids[h:-h]:
            if a in need or a not in self.feats_:
                continue
            f = self.feats_.pop(a)
            self._thin[a] = (f.date, f.covered)
            if keys is None:
                keys = self._thin_keys.setdefault(ev, set())
            keys.update(f.names)
            keys.update(f.numbers)

    def _retire(self, ev: str) -> None:
        keys = self._thin_keys.pop(ev, set())
        for a in self.members_[ev]:
            self._thin.pop(a, None)
            f = self.feats_.pop(a, None)
            if f is not None:
                keys.update(f.names)
                keys.update(f.numbers)
                self._retired_terms[a] = _pack(f.terms)
        names = self._horizon(names=True)
        if names is not None and (d := self.event_date(ev)) is not None and d < names:
            self._unname(ev, keys)
        else:  # its names lead to it until it falls behind retire_days
            self._named[ev] = tuple(keys)
        self.retired_.add(ev)
        self._settled.add(ev)

    def _load(self, ids: Sequence[str], kept: dict[str, Terms]) -> Sequence[ArticleFeatures]:
        """The loader's features of ``ids``; a loader that takes ``terms`` is given the tf-idf
        weights ``kept`` for them (it need not compute them again)."""
        assert self.loader is not None
        known = getattr(self, "_loader_takes", None)  # read once per loader, not per revival
        if known is not None and known[0] is self.loader:
            takes = known[1]
        else:
            try:
                takes = "terms" in inspect.signature(self.loader).parameters
            except (TypeError, ValueError):  # (a callable without a signature)
                takes = False
            self._loader_takes = (self.loader, takes)
        if not takes:
            return self.loader(ids)
        return self.loader(ids, terms=kept)  # type: ignore[call-arg]

    def _unname(self, ev: str, keys: Iterable[str]) -> None:
        """The names and numbers ``keys`` lead to the retired event ``ev`` no more."""
        for key in keys:
            self.key_events_.discard(key, ev)

    def _revive(self, ev: str) -> None:
        """Read a retired event's members' features back through the loader."""
        assert self.loader is not None
        ids = self.members_[ev]
        kept = {a: _unpack(t) for a in ids if (t := self._retired_terms.get(a)) is not None}
        got = {f.id: f for f in self._load(ids, kept)}
        missing = [a for a in ids if a not in got]
        if missing:
            raise RuntimeError(
                f"cannot revive event {ev}: {len(missing)} member(s) not found by the loader "
                f"(first: {missing[0]!r})"
            )
        self.retired_.discard(ev)
        self._named.pop(ev, None)  # (its members' names lead to it again below)
        self.revivals_ += 1
        for a in ids:
            f = got[a]
            # the tf-idf weights it had: the loader's follow today's term counts
            terms = kept.get(a)
            if terms is not None:
                f.terms = terms
                del self._retired_terms[a]
            self.feats_[a] = f
            for key in f.names | f.numbers:
                self.key_events_.add(key, ev)
        self._trim(ev)


Terms = tuple[np.ndarray, np.ndarray]


def _pack(terms: Terms) -> bytes | Terms:
    """A member's tf-idf weights (uint32 term hashes, float32 weights) in one bytes object: a
    tuple of two arrays costs about 280 bytes more, for every retired member of a long run.
    (Weights of other types are kept as they are.)"""
    ids, weights = terms
    if ids.dtype != np.uint32 or weights.dtype != np.float32:
        return terms
    return ids.tobytes() + weights.tobytes()


def _unpack(packed: bytes | Terms) -> Terms:
    if isinstance(packed, tuple):
        return packed
    n = len(packed) // 8
    return np.frombuffer(packed, np.uint32, n), np.frombuffer(packed, np.float32, n, 4 * n)
