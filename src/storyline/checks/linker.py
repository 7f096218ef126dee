"""The story-linker check: the pipeline's calls on a :class:`~storyline.stories.base.Linker`
(``learn_one``, ``update``, ``remove``), the consistency of ``story_of_`` and ``stories_``
after each, and resuming from ``to_state()`` through JSON on a ``clone()``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np

from ..model import Merge
from ..stories.base import Linker
from ..stories.event import StoryEvent
from .common import built, expect, label_of, missing_members

MEMBERS = ("story_of_", "stories_", "learn_one", "update", "remove", "to_state", "load_state", "clone")


def unit(*weights: float, dim: int = 8) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    v[: len(weights)] = weights
    return (v / np.linalg.norm(v)).astype(np.float32)


def sample_events() -> list[StoryEvent]:
    """Events as the pipeline makes them: two chapters of one story, look-alikes, an undated one."""
    iraq = frozenset({"country:IQ", "org:nato", "per:kazimi"})
    return [
        StoryEvent("ev-talks-1", dt.date(2020, 6, 11), unit(1, 0.2), iraq, ["strategic dialogue"], 4, frozenset({"en", "ar"})),
        StoryEvent("ev-quake", dt.date(2021, 2, 1), unit(0, 0, 1), frozenset({"country:CL"}), ["earthquake"], 3, frozenset({"es"})),
        StoryEvent("ev-talks-2", dt.date(2024, 1, 27), unit(1, 0.3), iraq - {"country:IQ"}, ["coalition mission"], 2, frozenset({"en"})),
        StoryEvent("ev-cup", None, unit(0, 1), frozenset({"org:fifa"}), ["cup final"], 1, frozenset({"fr"})),
        StoryEvent("ev-vote", dt.date(2022, 5, 3), unit(0, 0, 0, 1), frozenset({"per:someone"}), ["election"], 2),
    ]


def grown(ev: StoryEvent, like: StoryEvent) -> StoryEvent:
    """``ev`` after it grew into the subject of ``like`` (same actors, same centroid)."""
    return StoryEvent(ev.id, ev.date, like.centroid, like.entities | ev.entities,
                      [*like.keyphrases, *ev.keyphrases], ev.size + 3, ev.langs | like.langs)


def check_linker(linker: Any) -> None:
    """Check a :class:`~storyline.stories.base.Linker` (or a zero-argument factory of a fresh
    one).

    Verifies: the members of the contract; a fresh linker knows no events; ``learn_one``
    returns ``(story id: str, score: float)`` and places the event in that story; ``update``
    returns a list of story ``Merge`` records whose losers left ``stories_`` and whose winners
    are in it; ``remove`` returns the story the event left (None for an unknown event) and
    drops a story left empty; after every call each event is in exactly one story,
    ``story_of_`` and ``stories_`` agree and no story is empty; a story id that left is never
    given out again; ``to_state()`` survives ``json.dumps`` / ``json.loads`` (the pipeline
    stores it as JSON); ``clone()`` is a new, empty linker that links the same events the same
    way (same parameters) and leaves the original as it was; ``clone().load_state(state)``
    returns that clone, with the same stories, and links the next event as the original does.
    """
    with built(linker, "learn_one") as lk:
        label = f"linker {label_of(lk)}"
        missing = missing_members(lk, MEMBERS)
        expect(not missing, label, f"missing members of the Linker contract: {missing}")
        expect(isinstance(lk, Linker), label, "not a storyline.stories.base.Linker")
        expect(not lk.story_of_ and not lk.stories_, label, "check_linker needs a fresh linker (no events)")
        twin = lk.clone()
        expect(twin is not lk, label, "clone() must return a new object")
        expect(type(twin) is type(lk), label, f"clone() returned a {type(twin).__name__}, not a {type(lk).__name__}")
        seen: set[str] = set()
        events = sample_events()
        for ev in events[:4]:
            learn(lk, ev, label, seen)
            learn(twin, ev, label, set())
        expect(
            dict(twin.story_of_) == dict(lk.story_of_), label,
            "a clone fed the same events linked them differently: clone() must keep the parameters",
        )
        fresh = lk.clone()
        expect(not fresh.story_of_ and not fresh.stories_, label, "clone() must return an empty linker")
        expect(len(lk.story_of_) == 4, label, "clone() changed the original linker")
        merges = lk.update(grown(events[1], events[0]))
        check_merges(lk, merges, label, seen)
        check_resume(lk, events[4], label, seen)
        left = lk.story_of_[events[3].id]
        got = lk.remove(events[3].id)
        expect(got == left, label, f"remove must return the story the event left ({left!r}), got {got!r}")
        expect(events[3].id not in lk.story_of_, label, "remove must forget the event")
        consistent(lk, label, "after remove")
        expect(lk.remove("ev-never-seen") is None, label, "remove of an unknown event must return None")
        learn(lk, events[3], label, seen)  # back again: its old story id must not return


def learn(lk: Any, ev: StoryEvent, label: str, seen: set[str]) -> str:
    """``lk.learn_one(ev)`` with its checks; ``seen`` collects every story id given out."""
    gone = seen - set(lk.stories_)
    out = lk.learn_one(ev)
    expect(
        isinstance(out, tuple) and len(out) == 2, label,
        f"learn_one must return (story id, score), got {out!r}",
    )
    sid, score = out
    expect(isinstance(sid, str) and sid, label, f"learn_one must return a non-empty str story id, got {sid!r}")
    expect(
        isinstance(score, int | float | np.floating) and not isinstance(score, bool) and np.isfinite(score),
        label, f"learn_one must return a finite float score, got {score!r}",
    )
    expect(lk.story_of_.get(ev.id) == sid, label, f"after learn_one, story_of_[{ev.id!r}] must be {sid!r}")
    expect(sid not in gone, label, f"learn_one gave out story id {sid!r} again after it left")
    consistent(lk, label, f"after learn_one({ev.id!r})")
    seen.add(sid)
    return sid


def check_merges(lk: Any, merges: Any, label: str, seen: set[str]) -> None:
    expect(isinstance(merges, list), label, f"update must return a list of Merge, got {type(merges).__name__}")
    for m in merges:
        expect(isinstance(m, Merge) and m.kind == "story", label, f"update must return story Merge records, got {m!r}")
        expect(m.loser not in lk.stories_, label, f"merge loser {m.loser!r} is still in stories_")
        expect(m.winner in lk.stories_, label, f"merge winner {m.winner!r} is not in stories_")
    consistent(lk, label, "after update")
    seen.update(lk.stories_)


def check_resume(lk: Any, nxt: StoryEvent, label: str, seen: set[str]) -> None:
    state = lk.to_state()
    expect(isinstance(state, dict), label, f"to_state must return a dict, got {type(state).__name__}")
    try:
        stored = json.loads(json.dumps(state))
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{label}: to_state() must be JSON-serialisable: {exc}") from exc
    blank = lk.clone()
    back = blank.load_state(stored)
    expect(back is blank, label, "load_state must return the linker it was called on")
    expect(stories(back) == stories(lk), label, "after load_state(to_state()) the stories differ")
    expect(dict(back.story_of_) == dict(lk.story_of_), label, "after load_state(to_state()) story_of_ differs")
    before = set(seen)
    mine = learn(lk, nxt, label, seen)
    theirs = learn(back, nxt, label, before)
    expect(
        mine == theirs, label,
        f"a linker restored from its state linked {nxt.id!r} to {theirs!r}, the original to {mine!r}",
    )


def stories(lk: Any) -> dict[str, list[str]]:
    return {sid: list(ids) for sid, ids in lk.stories_.items()}


def consistent(lk: Any, label: str, when: str) -> None:
    """Each event in exactly one story; ``story_of_`` and ``stories_`` agree; none empty."""
    listed: dict[str, str] = {}
    for sid, ids in lk.stories_.items():
        expect(len(ids) > 0, label, f"{when}: story {sid!r} is empty but still in stories_")
        for e in ids:
            expect(e not in listed, label, f"{when}: event {e!r} is in stories {listed.get(e)!r} and {sid!r}")
            listed[e] = sid
    expect(
        listed == dict(lk.story_of_), label,
        f"{when}: story_of_ and stories_ disagree: {dict(lk.story_of_)} vs {dict(lk.stories_)}",
    )
