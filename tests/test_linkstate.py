"""The story linker's state in the store: its events as parts, each written when it changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storyline import Article, Pipeline
from storyline.represent.encoder import HashingEncoder
from storyline.run.linkstate import KEY, load_linker, save_linker
from storyline.store import open_store
from storyline.store.base import Store
from storyline.stories.linker import StoryEvent, StoryLinker

DAY = dt.date(2020, 6, 1)


def _article(n: int, day: int, text: str) -> Article:
    return Article(f"a{n}", text, lang="en", published=DAY + dt.timedelta(days=day))


ARTICLES = [
    _article(1, 0, "A strong earthquake hit central Chile on Monday, killing 12 people in Santiago."),
    _article(2, 0, "An earthquake of magnitude 7 struck central Chile on Monday. Twelve people died."),
    _article(3, 40, "The football club won the national cup final on Saturday after penalties."),
    _article(4, 90, "The government presented its budget for 2022 to parliament on Tuesday."),
]


def _event(eid: str, day: int, keys: set[str]) -> StoryEvent:
    v = np.ones(8, dtype=np.float32) / np.sqrt(8)
    return StoryEvent(eid, DAY + dt.timedelta(days=day), v, frozenset(keys))


def _parts(store: Store) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in store.get_state_parts(KEY).items()}


def test_save_writes_only_what_changed_and_drops_what_left() -> None:
    store = open_store(":memory:")
    linker = StoryLinker()
    for i in range(3):
        linker.learn_one(_event(f"ev-{i}", i, {f"per:p{i}", "org:un"}))
    save_linker(store, linker)
    assert json.loads(store.get_state(KEY) or "")["events"] is None  # the events are parts
    assert _parts(store) == {e: linker.events_[e].to_json() for e in linker.events_}
    written: list[tuple[dict[str, str], list[str], bool]] = []
    real = store.set_state_parts
    store.set_state_parts = lambda key, changed, removed=(), clear=False: (  # type: ignore[method-assign]
        written.append((dict(changed), list(removed), clear)), real(key, changed, removed, clear))[1]
    grown = dataclasses.replace(linker.events_["ev-1"], size=5)
    linker.update(grown)
    linker.remove("ev-2")
    save_linker(store, linker)
    assert [(sorted(c), r, clear) for c, r, clear in written] == [(["ev-1"], ["ev-2"], False)]
    assert _parts(store) == {e: linker.events_[e].to_json() for e in ("ev-0", "ev-1")}
    assert _parts(store)["ev-1"]["size"] == 5
    back = StoryLinker()
    assert load_linker(store, back) is False  # the events were kept apart
    assert back.story_of_ == linker.story_of_ and back.stories_ == linker.stories_
    assert {e: v.to_json() for e, v in back.events_.items()} == {e: v.to_json() for e, v in linker.events_.items()}
    save_linker(store, linker, full=True)  # all of them again; parts of no event are dropped
    assert written[-1][2] is True and sorted(written[-1][0]) == ["ev-0", "ev-1"]


def test_a_whole_state_from_before_is_read_and_then_kept_apart() -> None:
    store = open_store(":memory:")
    linker = StoryLinker()
    for i in range(3):
        linker.learn_one(_event(f"ev-{i}", i, {f"per:p{i}", "org:un"}))
    store.set_state(KEY, json.dumps(linker.to_state()))  # how a store kept it before
    back = StoryLinker()
    assert load_linker(store, back) is True  # the next save must write every event
    assert back.story_of_ == linker.story_of_
    save_linker(store, back, full=True)
    assert sorted(_parts(store)) == ["ev-0", "ev-1", "ev-2"]


def test_a_linker_without_take_touched_is_saved_whole() -> None:
    store = open_store(":memory:")

    class Plain(StoryLinker):
        take_touched = None  # type: ignore[assignment]

    linker = Plain()
    linker.learn_one(_event("ev-0", 0, {"per:p0"}))
    save_linker(store, linker)
    assert len(json.loads(store.get_state(KEY) or "")["events"]) == 1 and _parts(store) == {}


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Store, Pipeline, list[tuple[dict[str, str], list[str], bool]]]:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    pipe = Pipeline(store, encoder=HashingEncoder(), second=False)
    pipe.run(ARTICLES[:3])
    written: list[tuple[dict[str, str], list[str], bool]] = []
    real = store.set_state_parts

    def spy(key: str, changed: Any, removed: Any = (), clear: bool = False) -> None:
        written.append((dict(changed), list(removed), clear))
        real(key, changed, removed, clear)

    store.set_state_parts = spy  # type: ignore[method-assign]
    return store, pipe, written


def test_a_run_writes_the_events_it_linked_and_a_reopened_pipeline_resumes(runs) -> None:  # type: ignore[no-untyped-def]
    store, pipe, written = runs
    before = dict(store.get_state_parts(KEY))
    assert sorted(before) == sorted(pipe.linker.events_) and len(before) >= 2
    rep = pipe.run([ARTICLES[3]])
    new_event = rep.assignments[0].event
    assert [sorted(c) for c, _, clear in written if not clear] == [[new_event]]  # not the others
    after = store.get_state_parts(KEY)
    assert {e: after[e] for e in before} == before and new_event in after
    again = Pipeline(store, encoder=HashingEncoder(), second=False)
    assert again.linker.story_of_ == pipe.linker.story_of_
    assert again.linker.stories_ == pipe.linker.stories_


def test_rebuilding_the_stories_writes_them_all(runs) -> None:  # type: ignore[no-untyped-def]
    store, pipe, written = runs
    store.set_state_parts(KEY, {"ev-gone": "{}"})  # a part no event has any more
    pipe.rebuild_stories()
    changed, _, clear = written[-1]
    assert clear and sorted(changed) == sorted(pipe.linker.events_)
    assert "ev-gone" not in store.get_state_parts(KEY)
