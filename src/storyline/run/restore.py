"""Reopening a store: the clusterer's memory rebuilt from what is stored.

Term statistics first (one pass over the stored articles), then the features of assigned
articles chunk by chunk from their stored vectors (nothing is encoded again), each put back
into its stored event; events behind the time window are retired at once. Articles stored by
a run that stopped before assigning them are returned: the next run clusters them.
"""

from __future__ import annotations

import logging

from ..cluster.constraints import active_pins
from ..cluster.online import OnlineClusterer
from ..model import Processed
from ..represent.builder import FeatureBuilder
from ..store.base import Store

log = logging.getLogger(__name__)

CHUNK = 1024


def restore(store: Store, builder: FeatureBuilder, clusterer: OnlineClusterer) -> list[Processed]:
    """Put the stored assignments back into ``clusterer``; returns the unassigned articles."""
    orphans: list[Processed] = []
    assigned = {a.article_id: a.event for a in store.iter_assignments()}
    if not store.count_articles():
        return orphans
    clusterer.merges_ = store.merges("event")
    for p in store.iter_articles():
        if p.id in assigned:
            builder.observe([p])
            builder.forget(p.id)
        else:  # stored by a run that stopped before assigning it: clustered next run
            orphans.append(p)
    if orphans:
        builder.observe(orphans)
        log.info("%d stored articles have no event yet; they are assigned on the next run", len(orphans))
    chunk: list[Processed] = []
    n = 0
    for p in store.iter_articles():
        if p.id in assigned:
            chunk.append(p)
        if len(chunk) >= CHUNK:
            n += _restore_chunk(builder, clusterer, chunk, assigned)
            chunk = []
    n += _restore_chunk(builder, clusterer, chunk, assigned)
    clusterer.set_pins(active_pins(store.corrections()))  # people's corrections hold
    retired = clusterer.retire_old(repair=False)  # restoring merges nothing
    log.info("restored %d articles in %d events (%d behind the window retired)",
             n, clusterer.n_events_, retired)
    return orphans


def _restore_chunk(
    builder: FeatureBuilder, clusterer: OnlineClusterer, chunk: list[Processed], assigned: dict[str, str]
) -> int:
    for f in builder.build(chunk):
        clusterer.restore(f, assigned[f.id])
    return len(chunk)
