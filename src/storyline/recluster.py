"""Re-clustering the whole archive of a store, from scratch, with people's corrections kept.

Every stored article is decided again by a fresh clusterer (the same ``learn_one`` loop in
date order, then a repair pass: batch mode), from the stored vectors (nothing is encoded
again), with the pins of the corrections not undone; stories are linked again from scratch.
Ids stay stable: an event whose first article opens it again keeps its id (ids derive from
it), and every stored event or story id that no longer exists is logged as merged into where
most of its articles went, so it keeps resolving.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cluster.batch import order_key
from .cluster.constraints import active_pins
from .model import Merge, utc_now

if TYPE_CHECKING:
    from .run.pipeline import Pipeline

__all__ = ["ReclusterReport", "recluster"]

log = logging.getLogger(__name__)

CHUNK = 1024


@dataclass
class ReclusterReport:
    articles: int
    events_before: int
    events_after: int
    moved: int  # articles whose event id changed

    def summary(self) -> str:
        return (
            f"{self.articles} articles re-clustered: {self.events_before} events before, "
            f"{self.events_after} after, {self.moved} articles changed event"
        )


def recluster(pipe: Pipeline) -> ReclusterReport:
    """Decide every stored article again (corrections respected) and store the result."""
    store = pipe.store
    with store.writer_lock():
        old = {a.article_id: a for a in store.iter_assignments()}
        items = [p for p in store.iter_articles() if p.id in old]
        pipe._reset_memory()  # a fresh clusterer and linker over the same store
        cl = pipe.clusterer
        cl.merges_ = store.merges("event")  # new ids avoid every merged-away one
        cl.set_pins(active_pins(store.corrections()))
        pipe.builder.observe(items, keep=False)
        order = [p.id for p in sorted(items, key=lambda p: order_key(p.event_date, p.id))]
        del items
        scores: dict[str, float] = {}
        for start in range(0, len(order), CHUNK):
            ids = order[start : start + CHUNK]
            feats = {f.id: f for f in pipe.builder.build(list(store.iter_articles(ids)))}
            for aid in ids:
                _, scores[aid] = cl.learn_one(feats[aid])
        cl.repair()
        now = {aid: cl.event_of_[aid] for aid in order}
        merges = _gone({a: x.event for a, x in old.items()}, now, "event")
        with store.transaction():
            pipe.writer.write_events(sorted(cl.members_), set(order), scores, merges, {})
            stories = {a.article_id: a.story for a in map(store.get_assignment, order) if a is not None}
            for m in _gone({a: old[a].story for a in old}, stories, "story"):
                store.delete_story(m.loser)
                store.record_merge(m)
            pipe._generation = str(uuid.uuid4())
            store.set_state("generation", pipe._generation)
    report = ReclusterReport(
        len(order), len({a.event for a in old.values()}), cl.n_events_,
        sum(1 for a in order if old[a].event != now[a]),
    )
    log.info("%s", report.summary())
    return report


def _gone(old: dict[str, str], now: dict[str, str], kind: str) -> list[Merge]:
    """Merges that retire the ids of ``old`` (article -> id) missing from ``now``, each into
    the id that most of its articles have now."""
    before: dict[str, list[str]] = defaultdict(list)
    for aid, x in old.items():
        before[x].append(aid)
    alive = set(now.values())
    out = []
    for gone, aids in sorted(before.items()):
        if gone in alive:
            continue
        went = Counter(now[a] for a in aids if a in now).most_common(1)
        if went:
            out.append(Merge(kind, gone, went[0][0], 1.0, utc_now(), "re-clustered"))
    return out
