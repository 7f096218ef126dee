"""The story linker's state in the store: resumed by a reopened pipeline, saved at each
linking commit.

A linker that can say which events changed (``take_touched``, as
:class:`~storyline.stories.linker.StoryLinker`) is saved in two places: its state without the
events (stories, merges, ids given out: small) as the ``stories`` state value, and its events
as parts of ``stories`` (:meth:`~storyline.store.base.Store.set_state_parts`), each written
only when it changed. A commit then writes what the commit changed, not every event linked
so far (a 100k-article run holds about 36k events: about 110 MB of JSON). Any other linker's
``to_state()`` is saved whole, as the ``stories`` value.
"""

from __future__ import annotations

import json
from typing import Any

from ..store.base import Store
from ..stories.base import Linker

KEY = "stories"


def load_linker(store: Store, linker: Linker) -> bool:
    """Resume ``linker`` from the store (its parameters stay its own). Returns whether the
    next :func:`save_linker` must write all its events (the store kept them whole)."""
    raw = store.get_state(KEY)
    if not raw:
        return True
    state = json.loads(raw)
    apart = state.get("events") is None
    if apart:
        state["events"] = [json.loads(v) for v in store.get_state_parts(KEY).values()]
    linker.load_state(state)
    return not apart


def save_linker(store: Store, linker: Linker, full: bool = False) -> None:
    """Save ``linker``'s state: with ``full``, all its events (the parts saved before are
    dropped), else the events changed since the last save or load."""
    take = getattr(linker, "take_touched", None)
    if take is None:
        store.set_state(KEY, json.dumps(linker.to_state()))
        return
    touched = take()
    events: dict[str, Any] = linker.events_  # type: ignore[attr-defined]
    ids = events.keys() if full else touched & events.keys()
    with store.transaction():
        store.set_state_parts(
            KEY,
            {e: json.dumps(events[e].to_json()) for e in sorted(ids)},
            removed=() if full else sorted(touched - events.keys()),
            clear=full,
        )
        store.set_state(KEY, json.dumps(linker.to_state(events=False)))  # type: ignore[call-arg]
