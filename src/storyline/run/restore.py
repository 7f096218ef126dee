"""Reopening a store: the clusterer's memory rebuilt from what is stored.

Term statistics first (one pass over the stored articles, which also notes each assigned
article's date), then the features of assigned articles chunk by chunk from their stored
vectors (nothing is encoded again), in publication order (the order the clusterer first saw
them), each put back into its stored event. Events that fall behind the time window are
retired after every chunk, so memory holds the window's features and one chunk, never the
whole archive. Articles stored by a run that stopped before assigning them (or by ingest
workers) are returned: the next run clusters them.
"""

from __future__ import annotations

import datetime as dt
import logging

from ..cluster.batch import order_key
from ..cluster.constraints import active_pins
from ..cluster.online import OnlineClusterer
from ..model import Processed
from ..represent.builder import FeatureBuilder
from ..store.base import Store
from .memory import release_free_memory

log = logging.getLogger(__name__)

CHUNK = 1024


def restore(store: Store, builder: FeatureBuilder, clusterer: OnlineClusterer) -> list[Processed]:
    """Put the stored assignments back into ``clusterer``; returns the unassigned articles."""
    orphans: list[Processed] = []
    assigned = {a.article_id: a.event for a in store.iter_assignments()}
    if not store.count_articles():
        return orphans
    clusterer.merges_ = store.merges("event")
    order: list[tuple[tuple[bool, dt.date, str], str]] = []
    for p in store.iter_articles():
        if p.id in assigned:
            builder.observe([p], keep=False)
            order.append((order_key(p.event_date, p.id), p.id))
        else:  # stored by a run that stopped before assigning it: clustered next run
            orphans.append(p)
    if orphans:
        builder.observe(orphans, keep=len(orphans) <= CHUNK)
        log.info("%d stored articles have no event yet; they are assigned on the next run", len(orphans))
    order.sort()
    n = retired = 0
    for start in range(0, len(order), CHUNK):
        ids = [aid for _, aid in order[start : start + CHUNK]]
        stored = {p.id: p for p in store.iter_articles(ids)}
        for f in builder.build([stored[a] for a in ids]):
            clusterer.restore(f, assigned[f.id])
        n += len(ids)
        retired += clusterer.retire_old(repair=False)  # restoring merges nothing
        release_free_memory()  # the chunk's texts and retired features
    clusterer.set_pins(active_pins(store.corrections()))  # people's corrections hold
    log.info("restored %d articles in %d events (%d behind the window retired)",
             n, clusterer.n_events_, retired)
    return orphans
