"""Repair: events that turn out to be one are merged (the older id survives, the merge logged).

After a join, and for every event a run touched, an event is compared with its nearest events
(by centroid; for an event in a language outside the sentence encoder, by the second encoder)
through the mean pair probability of their members' samples, and merged with the best one
when that reaches ``merge_threshold``. :class:`Repair` is a mixin of
:class:`~storyline.cluster.online.OnlineClusterer`, which owns the state it works on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from ..model import Merge, utc_now

log = logging.getLogger("storyline.cluster.online")

# a long repair (the end of a run) retires again what it revived every this many events
REPAIRS_PER_RETIRE = 1024


class Repair:
    """Merging of converged events, for :class:`~storyline.cluster.online.OnlineClusterer`."""

    def repair(self, events: Iterable[str] | None = None) -> list[Merge]:
        """Merge events that converged, until nothing changes. Returns the new merges.

        ``events``: the events to start from (those a run touched; their neighbours are
        looked at too). Default: every event. The cost follows the touched events, not the
        size of the store.
        """
        before = len(self.merges_)
        start = self.members_ if events is None else events
        # a retired event had its last repair when it was retired
        queue = sorted(
            {e for e in start if e in self.members_ and e not in self.retired_},
            key=lambda e: self.created_[e],
        )
        queued = set(queue)
        was_retired, steps = set(self.retired_), 0
        while queue:
            steps += 1
            if steps % REPAIRS_PER_RETIRE == 0:  # what the repairs revived goes again
                self.retire_revived(was_retired)
                was_retired = set(self.retired_)
            ev = queue.pop(0)
            queued.discard(ev)
            if ev not in self.members_:
                continue
            n = len(self.merges_)
            if self._repair_around(ev):
                winner = self.merges_[n].winner
                if winner not in queued:  # the grown event may now meet another one
                    queue.append(winner)
                    queued.add(winner)
        self.retire_revived(was_retired)
        return self.merges_[before:]

    def _links(self, e1: str, others: Sequence[str]) -> list[float]:
        """Mean pair probability between the members of ``e1`` and of each of ``others``
        (sampled), scored in one batch."""
        a = self._sample(e1, self.link_members)
        samples = [self._sample(e2, self.link_members) for e2 in others]
        if not a:
            return [0.0] * len(others)
        # neighbours that cannot reach the merge threshold whatever the second encoder says
        ruled = self._ruled_out(a, samples, self.merge_threshold_for(e1))
        for i, s in enumerate(samples):  # second-encoder batches as when each link was scored on its own
            if i not in ruled:
                for x in a:
                    self.scorer.fill_second(x, s)
        b = [y for i, s in enumerate(samples) if i not in ruled for y in s]
        probs = self._pair_probs(a, b, fill=False) if b else np.zeros((len(a), 0))
        out, start = [], 0
        for i, s in enumerate(samples):
            if not s:
                out.append(0.0)
                continue
            if i in ruled:
                out.append(ruled[i])
                continue
            # a-major order, contiguous: the same mean as over the pairs scored one by one
            out.append(float(np.ascontiguousarray(probs[:, start : start + len(s)]).ravel().mean()))
            start += len(s)
        return out

    def _repair_around(self, ev: str) -> bool:
        """Merge ``ev`` with its best neighbour when they now look like one event."""
        if ev not in self.members_:
            return False
        best, best_score = None, 0.0
        near = []
        for other, cos in self.index_.query(self.centroid(ev), min(self.k, 5) + 1):
            if other == ev or other not in self.members_ or cos < self.link_min_cos:
                continue
            if not self.can_merge(ev, other):  # corrections keep them apart (constraints.py)
                continue
            d1, d2 = self.event_date(ev), self.event_date(other)
            if d1 and d2 and abs((d1 - d2).days) > self.window_days:
                continue
            near.append(other)
        first = self.feats_.get(self.members_[ev][0])
        if first is not None and not first.covered:  # vector neighbours are noise: ask the second encoder
            for other in self._second_candidates(first, exclude=ev):
                if other not in near and other in self.members_ and self.can_merge(ev, other):
                    near.append(other)
        for other, s in zip(near, self._links(ev, near) if near else [], strict=True):
            if s > best_score:
                best, best_score = other, s
        if best is None or best_score < self.merge_threshold_for(ev):
            return False
        self._merge(ev, best, best_score)
        return True

    def _merge(self, e1: str, e2: str, score: float) -> str:
        for ev in (e1, e2):
            if ev in self.retired_:
                self._revive(ev)
        winner, loser = (e1, e2) if self.created_[e1] <= self.created_[e2] else (e2, e1)
        keys: set[str] = self._thin_keys.pop(loser, set())
        if keys:
            self._thin_keys.setdefault(winner, set()).update(keys)
        for a in self.members_[loser]:
            self.event_of_[a] = winner
            f = self.feats_.get(a)
            if f is not None:  # else its keys are in the loser's _thin_keys
                keys.update(f.names)
                keys.update(f.numbers)
        for key in keys:
            self.key_events_.move(key, loser, winner)
        self._settled.discard(winner)
        self._settled.discard(loser)
        self._note_merge(loser, winner)  # pins follow the merge (constraints.py)
        self.members_[winner].extend(self.members_.pop(loser))
        self._dates.pop(winner, None)
        self._dates.pop(loser, None)
        self.vsum_[winner] = self.vsum_[winner] + self.vsum_.pop(loser)
        self.created_.pop(loser)
        self._second_rep.pop(loser, None)
        self.index_.remove(loser)
        self.index_.upsert(winner, self.centroid(winner))
        self._trim(winner)
        merge = Merge("event", loser, winner, round(score, 4), utc_now(), "mean pair probability")
        self.merges_.append(merge)
        log.info("merged event %s into %s (%.3f)", loser, winner, score)
        return winner
