"""People's corrections as constraints, and the record of each decision, in the clusterer.

A correction (:mod:`storyline.corrections`) *pins* articles: ``pins_`` maps an article id to
a pin group. Articles of one group must share an event (must-link); articles of two groups
must not (cannot-link). The online clusterer consults this mixin where it decides:

- ``learn_one``: an article whose group already lives in an event joins it; a candidate event
  holding another group is excluded;
- repairs: two events holding different groups are never merged.

Events never split by themselves, so once a correction has placed the pinned articles, later
runs, repairs, restarts and re-clustering keep them where people put them.

The same mixin keeps the *decision record* of each article learnt (``decisions_``): the
candidates with their scores, the members each best candidate was compared with, the
threshold, the action. :mod:`storyline.explain` recomputes the evidence from it, so an
explanation names exactly what the decision saw. The pipeline stores the records with the
decisions and drops them from memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model import Correction
from ..represent.features import ArticleFeatures

#: the best candidates whose compared members are recorded (the evidence ``why`` shows)
RECORD_MEMBERS = 3
#: decision records kept in memory until the pipeline stores them (a clusterer used on its
#: own keeps the latest ones only)
MAX_RECORDS = 50_000


def active_pins(corrections: Iterable[Correction]) -> dict[str, str]:
    """Article id -> pin group, from the corrections not undone, replayed oldest first (a
    later correction overrides an earlier one's pins of the same articles)."""
    pins: dict[str, str] = {}
    for c in corrections:
        if c.active:
            pins.update(c.data.get("pins", {}))  # type: ignore[call-overload]
    return pins


class Constraints:
    """Pins (must-link / cannot-link groups) and decision records, for the online clusterer."""

    event_of_: dict[str, str]
    threshold: float

    def _init_constraints(self) -> None:
        self.pins_: dict[str, str] = {}  # article id -> pin group
        self._pin_ev: dict[str, set[str]] = {}  # event id -> pin groups among its members
        self.decisions_: dict[str, dict[str, Any]] = {}  # article id -> decision record
        self._samples: dict[str, list[str]] = {}  # candidate event -> members compared (last article)
        self._bounds: set[str] = set()  # candidates whose score is an upper bound (last article)

    # -- pins --------------------------------------------------------------------------------
    def set_pins(self, pins: Mapping[str, str]) -> None:
        """Replace the pins (article id -> group) and index the events that hold them."""
        self.pins_ = dict(pins)
        self._pin_ev = {}
        for aid, group in self.pins_.items():
            ev = self.event_of_.get(aid)
            if ev is not None:
                self._pin_ev.setdefault(ev, set()).add(group)

    def pinned_event(self, f: ArticleFeatures) -> str | None:
        """The event where ``f``'s pin group already lives (it must join it), if any."""
        group = self.pins_.get(f.id)
        if group is None:
            return None
        for ev, groups in self._pin_ev.items():
            if group in groups:
                return ev
        return None

    def allowed(self, f: ArticleFeatures, ev: str) -> bool:
        """May ``f`` join ``ev``? Not when ``ev`` holds another pin group than ``f``'s."""
        group = self.pins_.get(f.id)
        groups = self._pin_ev.get(ev)
        return group is None or not groups or groups == {group}

    def can_merge(self, e1: str, e2: str) -> bool:
        """May two events merge? Not when together they hold two pin groups."""
        g1, g2 = self._pin_ev.get(e1), self._pin_ev.get(e2)
        return not g1 or not g2 or (g1 | g2) == g1 == g2

    def _note_add(self, aid: str, ev: str) -> None:
        group = self.pins_.get(aid)
        if group is not None:
            self._pin_ev.setdefault(ev, set()).add(group)

    def _note_merge(self, loser: str, winner: str) -> None:
        groups = self._pin_ev.pop(loser, None)
        if groups:
            self._pin_ev.setdefault(winner, set()).update(groups)

    # -- decision records --------------------------------------------------------------------
    def _note_samples(self, cands: Sequence[str], samples: Sequence[Sequence[ArticleFeatures]]) -> None:
        self._samples = {ev: [m.id for m in s] for ev, s in zip(cands, samples, strict=True)}

    def _note_bounds(self, cands: Sequence[str]) -> None:
        """Candidates scored by an upper bound: ruled out without the second encoder."""
        self._bounds = set(cands)

    def _note_decision(
        self, f: ArticleFeatures, ev: str, action: str, score: float,
        scored: Sequence[tuple[str, float]], excluded: Sequence[str] = (),
    ) -> None:
        """Record why ``f`` went to ``ev``: the candidates scored (best first), the members the
        best ones were compared with, the threshold."""
        ranked = sorted(scored, key=lambda es: (-es[1], es[0]))
        cands = []
        for n, (cand, s) in enumerate(ranked):
            item: dict[str, Any] = {"event": cand, "score": s}
            if n < RECORD_MEMBERS or cand == ev:
                item["members"] = self._samples.get(cand, [])
            if cand in excluded:
                item["excluded"] = "pinned apart by a correction"
            if cand in self._bounds:
                item["at_most"] = True  # an upper bound, below the threshold
            cands.append(item)
        self.decisions_[f.id] = {
            "event": ev, "action": action, "score": score, "threshold": self.threshold_for(f),
            "candidates": cands,
        }  # fmt: skip
        self._samples, self._bounds = {}, set()
        while len(self.decisions_) > MAX_RECORDS:
            del self.decisions_[next(iter(self.decisions_))]

    def take_decisions(self, ids: Sequence[str] | set[str]) -> dict[str, dict[str, Any]]:
        """The decision records of ``ids`` (those that have one), removed from memory."""
        return {aid: d for aid in ids if (d := self.decisions_.pop(aid, None)) is not None}
