"""Batch order: an archive is clustered as the same ``learn_one`` loop over its articles
sorted by date, so batch and online runs decide alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..represent.features import ArticleFeatures
from .online import OnlineClusterer


def order_key(date: dt.date | None, key: str) -> tuple[bool, dt.date, str]:
    """Publication/event order for batch runs: dated articles first by date, then by id."""
    return (date is None, date or dt.date.max, key)


def sort_key(f: ArticleFeatures) -> tuple[bool, dt.date, str]:
    """:func:`order_key` of an article's features."""
    return order_key(f.date, f.id)


def cluster_batch(clusterer: OnlineClusterer, feats: Sequence[ArticleFeatures]) -> dict[str, str]:
    """The same ``learn_one`` decisions over the input sorted by date, then a repair pass."""
    for f in sorted(feats, key=sort_key):
        clusterer.learn_one(f)
    clusterer.repair({clusterer.event_of_[f.id] for f in feats})
    return {f.id: clusterer.event_of_[f.id] for f in feats}
