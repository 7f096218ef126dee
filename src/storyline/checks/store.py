"""The store check: a small round trip through every part of the
:class:`~storyline.store.base.Store` contract the pipeline uses.

The full suite (concurrency, reopening, migrations) is ``tests/test_store_contract.py``; this
check is what a user's own store can run on a fresh, empty instance.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ..model import Article, Assignment, Correction, Event, Merge, Processed, Story
from ..store.base import Store
from .common import built, expect, label_of


def processed(article_id: str, text: str = "Talks resumed in Geneva on Thursday.") -> Processed:
    """A prepared article with every field set (non-ASCII text included)."""
    article = Article(
        id=article_id, text=text, title="Sommet à Genève", lang="fr",
        published=dt.date(2024, 1, 1), source="AFP", url=f"https://example.org/{article_id}",
        origin=f"check.jsonl:{article_id}", published_precision="month",
    )
    return Processed(
        article=article, clean_text=text + " 東京 😀", lang="fr", lang_confidence=0.875,
        event_date=dt.date(2023, 12, 28), event_date_source="text:Thursday",
        title="Sommet à Genève", sentences=[text, "東京 😀"],
        entities=[("Genève", "GPE", "geneva")],
    )


def check_store(store: Any) -> None:
    """Check a :class:`~storyline.store.base.Store` (or a zero-argument factory of a fresh,
    empty one: it is closed afterwards; a store passed as is stays open and must be empty).

    Verifies: it subclasses ``Store``; articles round-trip field for field, ``add_article``
    returns True once and then False without changing the stored article, ``has_article``,
    ``count_articles`` and ``iter_articles`` (insertion order, and by ids); float32 vectors
    (1-d and 2-d) round-trip per kind, kinds are separate, existing entries are kept;
    assignments are inserted and replaced; events round-trip, are listed oldest first and
    deleted, and ``get_event`` of a merged-away id returns the survivor; stories round-trip
    and are deleted; the merge log keeps order and kind and ``resolve`` follows chains;
    state keys round-trip; a failing ``transaction()`` leaves nothing behind; corrections are
    logged in order and marked undone; decision records round-trip and are replaced.
    """
    with built(store, "add_article") as s:
        label = f"store {label_of(s)}"
        expect(isinstance(s, Store), label, "must subclass storyline.store.base.Store")
        expect(s.count_articles() == 0, label, "check_store needs a fresh, empty store")
        check_articles(s, label)
        check_vectors(s, label)
        check_assignments(s, label)
        check_events(s, label)
        check_stories_and_merges(s, label)
        check_state_and_transaction(s, label)
        check_corrections_and_decisions(s, label)


def check_articles(s: Store, label: str) -> None:
    first = processed("chk-b")
    expect(s.add_article(first) is True, label, "add_article of a new id must return True")
    expect(s.get_article("chk-b") == first, label, "get_article must return the stored article unchanged")
    expect(s.add_article(first) is False, label, "add_article of a known id must return False")
    expect(
        s.add_article(processed("chk-b", "Other text.")) is False, label,
        "add_article of a known id with other text must return False",
    )
    expect(s.get_article("chk-b") == first, label, "add_article of a known id must change nothing")
    s.add_article(processed("chk-a", "Second article."))
    s.add_article(processed("chk-c", "Third article."))
    expect(s.count_articles() == 3, label, f"count_articles() is {s.count_articles()}, expected 3")
    expect(s.has_article("chk-a") and not s.has_article("chk-none"), label, "has_article is wrong")
    expect(s.get_article("chk-none") is None, label, "get_article of an unknown id must be None")
    order = [p.id for p in s.iter_articles()]
    expect(order == ["chk-b", "chk-a", "chk-c"], label, f"iter_articles() must keep insertion order, got {order}")
    some = [p.id for p in s.iter_articles(["chk-c", "chk-none", "chk-b"])]
    expect(some == ["chk-b", "chk-c"], label, f"iter_articles(ids) must give the known ids in insertion order, got {some}")


def check_vectors(s: Store, label: str) -> None:
    one = np.linspace(-1, 1, 16, dtype=np.float32)
    two = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    s.put_vectors({"h1": one, "h2": two}, "chk:sents")
    got = s.get_vectors(["h1", "h2", "h-missing"], "chk:sents")
    expect(set(got) == {"h1", "h2"}, label, f"get_vectors must return the present hashes only, got {sorted(got)}")
    for key, want in (("h1", one), ("h2", two)):
        v = got[key]
        expect(
            isinstance(v, np.ndarray) and v.dtype == np.float32 and v.shape == want.shape, label,
            f"vector {key} must come back as float32 of shape {want.shape}, got "
            f"{getattr(v, 'dtype', type(v))} {getattr(v, 'shape', '')}",
        )
        expect(np.array_equal(v, want), label, f"vector {key} changed on the way through the store")
    expect(s.get_vectors(["h1"], "chk:title") == {}, label, "vectors of one kind must not be found under another")
    s.put_vectors({"h1": np.zeros(16, dtype=np.float32)}, "chk:sents")
    expect(
        np.array_equal(s.get_vectors(["h1"], "chk:sents")["h1"], one), label,
        "put_vectors must leave an existing (hash, kind) entry as it is",
    )


def check_assignments(s: Store, label: str) -> None:
    a = Assignment("chk-a", "ev-1", "st-1", "fa-1", "fr", 0.5)
    b = Assignment("chk-b", "ev-1", "st-1", "fa-1", "fr", 0.75)
    s.put_assignments([a, b])
    expect(s.get_assignment("chk-a") == a, label, "get_assignment must return the stored assignment")
    expect(s.get_assignment("chk-none") is None, label, "get_assignment of an unknown article must be None")
    newer = Assignment("chk-a", "ev-2", "st-2", "fa-2", "fr", 0.25)
    s.put_assignments([newer])
    expect(s.get_assignment("chk-a") == newer, label, "put_assignments must replace an article's assignment")
    ids = [x.article_id for x in s.iter_assignments()]
    expect(ids == ["chk-b", "chk-a"], label, f"iter_assignments must follow article insertion order, got {ids}")


def check_events(s: Store, label: str) -> None:
    full = Event(
        "ev-2", ["chk-a", "chk-b"], created="2024-01-02T00:00:00", date=dt.date(2024, 1, 1),
        date_range=(dt.date(2023, 12, 30), dt.date(2024, 1, 2)), languages={"fr": 2},
        sources={"AFP": 2}, title="Talks", headline="Talks resume", summary="Çà et là.",
        keyphrases=["peace talks"], entities=[("geneva", "Genève", 2)], story="st-1",
    )
    s.put_event(full)
    s.put_event(Event("ev-1", ["chk-c"], created="2024-01-01T00:00:00"))
    expect(s.get_event("ev-2") == full, label, "get_event must return the stored event field for field")
    expect(s.get_event("ev-none") is None, label, "get_event of an unknown id must be None")
    ids = [e.id for e in s.iter_events()]
    expect(ids == ["ev-1", "ev-2"], label, f"iter_events must list events oldest first, got {ids}")
    grown = Event("ev-2", ["chk-a", "chk-b", "chk-c"], created="2024-01-02T00:00:00")
    s.put_event(grown)
    expect(s.get_event("ev-2") == grown, label, "put_event must replace an event")
    s.record_merge(Merge("event", "ev-1", "ev-2", 0.9, "2024-01-03T00:00:00", "check"))
    s.delete_event("ev-1")
    s.delete_event("ev-never")
    ids = [e.id for e in s.iter_events()]
    expect(ids == ["ev-2"], label, f"delete_event must remove the event, iter_events gives {ids}")
    survivor = s.get_event("ev-1")
    expect(
        survivor is not None and survivor.id == "ev-2", label,
        "get_event of a merged-away id must return the surviving event",
    )


def check_stories_and_merges(s: Store, label: str) -> None:
    story = Story("st-1", ["ev-1", "ev-2"], "Dialogue", "Résumé", dt.date(2020, 1, 1), None)
    s.put_story(story)
    s.put_story(Story("st-2", ["ev-3"]))
    expect(s.get_story("st-1") == story, label, "get_story must return the stored story")
    expect(s.get_story("st-none") is None, label, "get_story of an unknown id must be None")
    s.delete_story("st-2")
    ids = sorted(x.id for x in s.iter_stories())
    expect(ids == ["st-1"], label, f"delete_story must remove the story, iter_stories gives {ids}")
    m2 = Merge("event", "ev-2", "ev-9", 0.7, "2024-01-04T00:00:00")
    m3 = Merge("story", "st-0", "st-1", 0.6, "2024-01-05T00:00:00")
    s.record_merge(m2)
    s.record_merge(m3)
    events = s.merges("event")
    expect(
        [m.loser for m in events] == ["ev-1", "ev-2"] and events[-1] == m2, label,
        f"merges('event') must return the event merges oldest first, got {events}",
    )
    expect(s.merges("story") == [m3], label, "merges('story') must return the story merges only")
    expect(len(s.merges()) == 3, label, "merges() must return every merge")
    expect(s.resolve("event", "ev-1") == "ev-9", label, "resolve must follow a chain of merges")
    expect(s.resolve("event", "ev-none") == "ev-none", label, "resolve of an unmerged id must return it")


def check_state_and_transaction(s: Store, label: str) -> None:
    expect(s.get_state("chk-key") is None, label, "get_state of an unknown key must be None")
    s.set_state("chk-key", "1")
    s.set_state("chk-key", "värde 2")
    expect(s.get_state("chk-key") == "värde 2", label, "set_state must replace the value")
    before = s.count_articles()
    try:
        with s.transaction():
            s.add_article(processed("chk-rolled-back"))
            s.set_state("chk-rolled-back", "x")
            raise RuntimeError("storyline check: roll back")
    except RuntimeError:
        pass
    expect(
        s.count_articles() == before and not s.has_article("chk-rolled-back")
        and s.get_state("chk-rolled-back") is None,
        label, "a transaction that raises must leave nothing behind",
    )
    with s.transaction(), s.transaction():  # re-entrant
        s.add_article(processed("chk-nested"))
    expect(s.has_article("chk-nested"), label, "writes in nested transactions must be kept")
    s.set_state_parts("chk-parts", {"b": "2", "a": "1", "c": "3"})
    s.set_state_parts("chk-parts", {"b": "2'"}, removed=["c"])
    expect(s.get_state_parts("chk-parts") == {"a": "1", "b": "2'"}, label,
           "set_state_parts must write the changed parts and drop the removed ones")
    s.set_state_parts("chk-parts", {"d": "4"}, clear=True)
    expect(s.get_state_parts("chk-parts") == {"d": "4"}, label,
           "set_state_parts(clear=True) must drop the parts written before")


def check_corrections_and_decisions(s: Store, label: str) -> None:
    expect(s.corrections() == [], label, "corrections() of a fresh store must be empty")
    first = Correction("c-1", "move", "2024-01-01T00:00:00+00:00", "ana",
                       {"article": "a", "pins": {"a": "c-1/1", "b": "c-1/2"}, "before": {"a": "ev-1"}})  # fmt: skip
    second = Correction("c-2", "merge", "2024-01-02T00:00:00+00:00", "bo", {"pins": {"c": "c-2/1"}})
    s.add_correction(first)
    s.add_correction(second)
    got = s.corrections()
    expect(got == [first, second], label, f"corrections() must return them oldest first, unchanged, got {got}")
    s.mark_undone("c-1", "2024-01-03T00:00:00+00:00", "bo")
    got = s.corrections()
    expect(
        [c.active for c in got] == [False, True] and got[0].undone_by == "bo"
        and got[0].undone_at == "2024-01-03T00:00:00+00:00" and got[0].data == first.data,
        label, "mark_undone must mark that correction undone (time, author) and keep it in the log",
    )
    expect(s.get_decision("chk-a") is None, label, "get_decision of an article without one must be None")
    rec = {"event": "ev-1", "action": "joined", "score": 0.75, "candidates": [{"event": "ev-1", "score": 0.75}]}
    s.put_decisions({"chk-a": rec})
    expect(s.get_decision("chk-a") == rec, label, "decision records must round-trip")
    s.put_decisions({"chk-a": {**rec, "score": 0.5}})
    expect(s.get_decision("chk-a") == {**rec, "score": 0.5}, label, "put_decisions must replace a record")
