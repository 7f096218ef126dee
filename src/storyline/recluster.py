"""Re-clustering the whole archive of a store, from scratch, with people's corrections kept.

Every stored article is decided again by a fresh clusterer (the same ``learn_one`` loop in
date order, then a repair pass: batch mode), from the stored vectors (nothing is encoded
again), with the pins of the corrections not undone.
Ids stay stable: each new event keeps the stored id held by most of its articles (largest
overlaps first), and every stored event id that no longer exists is logged as merged into
where most of its articles went, so it keeps resolving; stories are updated, not rebuilt.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cluster.batch import order_key
from .cluster.constraints import active_pins
from .model import Assignment, Merge, short_id, utc_now

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
        fresh = pipe.clusterer.clone(loader=pipe.builder.load)  # a fresh clusterer, same store
        fresh.merges_ = store.merges("event")  # new ids avoid every merged-away one
        fresh.set_pins(active_pins(store.corrections()))
        builder = type(pipe.builder)(pipe.builder.encoder, store)
        builder.observe(items, keep=False)
        fresh.loader = builder.load
        order = [p.id for p in sorted(items, key=lambda p: order_key(p.event_date, p.id))]
        del items
        scores: dict[str, float] = {}
        known = len(fresh.merges_)
        for start in range(0, len(order), CHUNK):
            ids = order[start : start + CHUNK]
            feats = {f.id: f for f in builder.build(list(store.iter_articles(ids)))}
            for aid in ids:
                _, scores[aid] = fresh.learn_one(feats[aid])
        fresh.repair()
        rename = _keep_ids({a: x.event for a, x in old.items()}, fresh.event_of_, store)
        hops = {m.loser: m.winner for m in fresh.merges_[known:]}

        def final(ev: str) -> str:
            seen = set()
            while ev in hops and ev not in seen:
                seen.add(ev)
                ev = hops[ev]
            return rename.get(ev, ev)

        now = {aid: final(fresh.event_of_[aid]) for aid in order}
        records = fresh.take_decisions(order)
        for rec in records.values():
            rec["event"] = final(rec["event"])
            for c in rec.get("candidates", []):
                c["event"] = final(c["event"])
        merges = _gone({a: x.event for a, x in old.items()}, now, "event")
        try:
            with store.transaction():
                store.put_assignments(
                    Assignment(a, now[a], old[a].story, old[a].family, old[a].lang, scores[a]) for a in order
                )
                pipe._reset_memory()
                pipe._restore()  # memory as the store now says (stories keep their ids)
                pipe.writer.write_events(sorted(set(now.values())), set(), scores, merges)
                store.put_decisions(records)
                pipe._generation = str(uuid.uuid4())
                store.set_state("generation", pipe._generation)
        except BaseException:
            pipe._reset_memory()
            pipe._restore()
            raise
    report = ReclusterReport(
        len(order), len({a.event for a in old.values()}), len(set(now.values())),
        sum(1 for a in order if old[a].event != now[a]),
    )
    log.info("%s", report.summary())
    return report


def _keep_ids(old: dict[str, str], new: dict[str, str], store: object) -> dict[str, str]:
    """New event id -> the stored id it keeps: each new event takes the old id held by most
    of its articles (largest overlaps first, each old id once); a new event that gets none
    keeps its own id unless an old event had it, else a fresh one."""
    overlap = Counter((new[a], ev) for a, ev in old.items() if a in new)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for (n, o), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if n not in out and o not in taken:
            out[n] = o
            taken.add(o)
    olds = set(old.values())
    for n in sorted(set(new.values())):
        if n in out:
            continue
        ev, k = n, 0
        while ev in taken or ev in olds:
            k += 1
            ev = short_id("ev", f"{n}#re{k}")
        out[n] = ev
        taken.add(ev)
    return out


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
