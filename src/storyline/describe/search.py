"""Finding events by what a reader types, in any language: the search of ``storyline search``,
``GET /api/search`` and the search page.

Three ways an event matches, best first:

* **text**: its title, headline or summary contains the query (the store's own query);
* **entity**: the query names an entity the event is about. Names are turned into the
  cross-lingual keys of :mod:`storyline.prepare.entities`, so "Iraq", "Irak" and "Ирак" all
  find the events that name ``country:IQ``;
* **similar**: its members' title vectors are near the query's vector (the multilingual
  encoder the store was built with), above :data:`SIMILAR_MIN`: the neighbours in meaning,
  in any language.

Each hit keeps its ``score`` and ``why`` so a page can say how an event was found.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import Event, Story
from ..store.base import Store
from ..text import fold

__all__ = ["SIMILAR_MIN", "Hit", "encoder_for", "query_keys", "search", "search_stories"]

log = logging.getLogger(__name__)

#: cosine between the query and an event's mean title vector for a "similar" hit (USE: a
#: one-word query such as "Iraq" scores 0.34-0.43 with the Iraq events of the seeds and at most
#: 0.19 with the earthquake and Moon events of the bundled sample; "séisme" 0.29 with its
#: two earthquakes)
SIMILAR_MIN = 0.28
_ENCODERS: dict[str, Any] = {}
_LOCK = threading.Lock()


@dataclass
class Hit:
    """An event found by a query: how well (``score`` in [0, 1]) and why."""

    event: Event
    score: float
    why: str  # "text", "entity" or "similar"


def query_keys(query: str) -> set[str]:
    """The entity keys a query names: the whole query and each of its words and word pairs,
    looked up in the gazetteer and the built-in organisation table (no person guessing).

    >>> sorted(query_keys("Iraq")), sorted(query_keys("troupes en Irak"))
    (['country:IQ'], ['country:IQ'])
    """
    from ..prepare.entities import EntityNormalizer

    norm = EntityNormalizer()
    words = query.split()
    spans = {query.strip(), *words, *(" ".join(p) for p in itertools.pairwise(words))}
    keys = set()
    for span in spans:
        span = span.strip(" ,.;:!?\"'«»“”()")
        if len(span) < 2:
            continue
        key = norm.lookup(span)
        if key is None and span[:1].islower():
            key = norm.lookup(span[:1].upper() + span[1:])
        if key:
            keys.add(key)
    return keys


def encoder_for(store: Store) -> Any | None:
    """The encoder that made the store's vectors, loaded once per process; None when it is
    not one storyline can load here (then search goes without neighbours)."""
    name = store.get_state("encoder") or "use-m3"
    with _LOCK:
        if name in _ENCODERS:
            return _ENCODERS[name]
        enc: Any | None = None
        try:
            if name == "use-m3":
                from ..represent.encoder import USEEncoder

                enc = USEEncoder()
            elif name.startswith("hashing-"):
                from ..represent.encoder import HashingEncoder

                enc = HashingEncoder(int(name.split("-", 1)[1]))
        except Exception as exc:  # noqa: BLE001 - no model: search by text and entities
            log.info("search without neighbours: encoder %s unavailable (%s)", name, exc)
            enc = None
        _ENCODERS[name] = enc
        return enc


def _title_centroids(store: Store, events: list[Event]) -> tuple[list[Event], np.ndarray]:
    """Each event's mean member title vector (unit length), for the events that have one."""
    name = store.get_state("encoder") or "use-m3"
    hashes: dict[str, list[str]] = {}
    for p in store.iter_articles([a for e in events for a in e.article_ids]):
        hashes[p.id] = [p.article.hash]
    vecs = store.get_vectors({h for hs in hashes.values() for h in hs}, f"{name}:title")
    kept, rows = [], []
    for e in events:
        got = [vecs[h].reshape(-1, vecs[h].shape[-1]).mean(axis=0)
               for a in e.article_ids for h in hashes.get(a, []) if h in vecs]  # fmt: skip
        if not got:
            continue
        c = np.mean(got, axis=0)
        n = float(np.linalg.norm(c))
        if n:
            kept.append(e)
            rows.append(c / n)
    return kept, np.array(rows, dtype=np.float32)


def search(
    store: Store,
    query: str,
    *,
    encoder: Any | None = None,
    neighbours: bool = True,
    limit: int = 50,
    events: Iterable[Event] | None = None,
) -> list[Hit]:
    """Events matching ``query`` (see the module docstring), best first, then newest first.

    ``encoder`` encodes the query for neighbours (default: :func:`encoder_for` the store;
    ``neighbours=False`` skips them); ``events`` restricts the search (default: all).
    """
    query = " ".join(query.split())
    if not query:
        return []
    pool = list(store.iter_events()) if events is None else list(events)
    hits: dict[str, Hit] = {}
    live = {e.id for e in pool}
    for e in store.search_events(query, limit=1_000_000):
        if e.id in live:
            hits[e.id] = Hit(e, 1.0, "text")
    keys = query_keys(query)
    needle = fold(query)
    for e in pool:
        if e.id in hits:
            continue
        named = {k for k, _, _ in e.entities}
        if keys & named or any(fold(n) == needle for _, n, _ in e.entities):
            hits[e.id] = Hit(e, 0.9, "entity")
        elif any(fold(p) == needle for p in e.keyphrases):
            hits[e.id] = Hit(e, 0.85, "text")
    if neighbours:
        enc = encoder if encoder is not None else encoder_for(store)
        rest = [e for e in pool if e.id not in hits]
        if enc is not None and rest:
            kept, mat = _title_centroids(store, rest)
            if len(kept):
                qv = np.asarray(enc.encode([query]), dtype=np.float32)[0]
                qv = qv / (float(np.linalg.norm(qv)) or 1.0)
                sims = mat @ qv
                for e, s in zip(kept, sims, strict=True):
                    if s >= SIMILAR_MIN:
                        hits[e.id] = Hit(e, round(float(s) * 0.8, 4), "similar")
    ranked = sorted(hits.values(), key=lambda h: (h.event.date or dt.date.min, h.event.id),
                    reverse=True)  # fmt: skip
    ranked.sort(key=lambda h: -h.score)
    return ranked[:limit]


def search_stories(store: Store, query: str, hits: Iterable[Hit] = ()) -> list[Story]:
    """Stories whose headline or summary contain ``query``, then the stories of ``hits``."""
    needle = query.strip().casefold()
    if not needle:
        return []
    stories = list(store.iter_stories())
    out = [s for s in stories if needle in f"{s.headline}\n{s.summary}".casefold()]
    by_id = {s.id: s for s in stories}
    for h in hits:
        st = by_id.get(h.event.story or "")
        if st is not None and st not in out:
            out.append(st)
    return out
