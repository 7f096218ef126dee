"""Contract tests every Store implementation passes.

Each test runs against every entry of ``STORE_FACTORIES``. To add an implementation, append
``StoreFactory(name, make, persistent)`` where ``make(tmp_path)`` returns a fresh, empty store
(or calls ``pytest.skip`` with a reason when the backend is unavailable); ``persistent`` stores
are also reopened with ``open_store(store.url)`` by the reopening and two-connection tests.
SQLite-only checks (migrations) are at the bottom.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from storyline.errors import MissingExtra, StoreError
from storyline.model import Article, Assignment, Event, Merge, Processed, Story
from storyline.store import SQLiteStore, Store, open_store
from storyline.store import migrations as migrations_module


@dataclass(frozen=True)
class StoreFactory:
    name: str
    make: Callable[[Path], Store]
    persistent: bool


def _postgres(tmp_path: Path) -> Store:
    from conftest_postgres import postgres_url  # env URL, or a session pgserver, or skip

    url = postgres_url(os.environ)
    try:
        store = open_store(url)
    except MissingExtra as exc:
        pytest.skip(f"Postgres store unavailable: {exc}")
    reset = getattr(store, "reset", None)  # a fresh, empty store per test
    if reset is None:
        pytest.skip("Postgres store has no reset() to empty the scratch database")
    reset()
    return store


STORE_FACTORIES: list[StoreFactory] = [
    StoreFactory("sqlite-memory", lambda tmp: open_store(":memory:"), persistent=False),
    StoreFactory("sqlite-file", lambda tmp: open_store(f"sqlite:///{tmp / 'x.db'}"), True),
    StoreFactory("postgres", _postgres, persistent=True),
]


@pytest.fixture(params=STORE_FACTORIES, ids=lambda f: f.name)
def factory(request: pytest.FixtureRequest) -> StoreFactory:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def store(factory: StoreFactory, tmp_path: Path) -> Iterator[Store]:
    s = factory.make(tmp_path)
    try:
        yield s
    finally:
        s.close()


def proc(article_id: str, text: str = "Body text.", **kw: object) -> Processed:
    art_kw = {k: kw.pop(k) for k in list(kw) if k in ("title", "published", "source", "url",
                                                      "origin", "published_precision")}  # fmt: skip
    article = Article(id=article_id, text=text, lang=kw.pop("given_lang", None), **art_kw)  # type: ignore[arg-type]
    kw.setdefault("clean_text", text)
    kw.setdefault("lang", "en")
    kw.setdefault("lang_confidence", 0.99)
    return Processed(article=article, **kw)  # type: ignore[arg-type]


def assign(article_id: str, event: str = "ev-1", score: float = 0.5) -> Assignment:
    return Assignment(article_id, event, "st-1", "fa-1", "en", score)


# -- articles ------------------------------------------------------------------------------------
def test_article_round_trip_full(store: Store) -> None:
    article = Article(
        id="a-1", text="Le président a rencontré… 東京 😀\nSecond line.", title="Sommet à Genève",
        lang="fr", published=dt.date(2024, 1, 1), source="AFP", url="https://example.org/a?x=1",
        origin="seeds/001.txt:1", published_precision="month",
    )  # fmt: skip
    item = Processed(
        article=article, clean_text="Le président a rencontré… 東京 😀", lang="fr",
        lang_confidence=0.8731234567, event_date=dt.date(2023, 12, 28),
        event_date_source="text:Thursday, December 28", title="Sommet à Genève",
        sentences=["Le président a rencontré…", "東京 😀"],
        entities=[("Genève", "GPE", "geneva"), ("ONU", "ORG", "united_nations")],
    )  # fmt: skip
    assert store.add_article(item) is True
    got = store.get_article("a-1")
    assert got == item
    assert got is not None
    assert isinstance(got.article.published, dt.date)
    assert isinstance(got.entities[0], tuple)


def test_article_round_trip_minimal_nones(store: Store) -> None:
    item = proc("b", "x")
    store.add_article(item)
    got = store.get_article("b")
    assert got == item
    assert got is not None
    assert got.article.title is None and got.article.published is None
    assert got.event_date is None and got.sentences == [] and got.entities == []


def test_add_article_is_idempotent(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    first = proc("a", "first text")
    assert store.add_article(first) is True
    assert store.add_article(first) is False
    assert store.add_article(proc("a", "other text")) is False
    assert store.get_article("a") == first
    assert store.count_articles() == 1
    assert "'a'" in caplog.text  # the warning names the id whose content differs


def test_articles_counts_and_insertion_order(store: Store) -> None:
    assert store.count_articles() == 0
    assert list(store.iter_articles()) == []
    ids = ["z", "a", "m", "b"]
    for i in ids:
        store.add_article(proc(i, f"text {i}"))
    assert store.count_articles() == 4
    assert store.has_article("m") and not store.has_article("nope")
    assert store.get_article("nope") is None
    assert [p.id for p in store.iter_articles()] == ids
    assert [p.id for p in store.iter_articles(["b", "z", "missing", "z"])] == ["z", "b"]
    assert list(store.iter_articles([])) == []


def test_iter_articles_many(store: Store) -> None:
    with store.transaction():
        for i in range(1205):
            store.add_article(proc(f"id{i:05d}", f"t{i}"))
    assert [p.id for p in store.iter_articles()] == [f"id{i:05d}" for i in range(1205)]
    subset = [f"id{i:05d}" for i in range(1204, -1, -2)]
    assert [p.id for p in store.iter_articles(subset)] == sorted(subset)


# -- vectors -------------------------------------------------------------------------------------
def test_vectors_round_trip_and_ignore_existing(store: Store) -> None:
    rng = np.random.default_rng(0)
    one = rng.standard_normal(512).astype(np.float32)
    two = rng.standard_normal((3, 16)).astype(np.float32)
    store.put_vectors({"h1": one, "h2": two}, "doc")
    got = store.get_vectors(["h1", "h2", "missing"], "doc")
    assert set(got) == {"h1", "h2"}
    assert got["h1"].dtype == np.float32 and got["h1"].shape == (512,)
    assert np.array_equal(got["h1"], one) and np.array_equal(got["h2"], two)
    got["h1"][0] = 42.0  # writable copies
    store.put_vectors({"h1": np.zeros(512, dtype=np.float32)}, "doc")
    assert np.array_equal(store.get_vectors(["h1"], "doc")["h1"], one)
    assert store.get_vectors(["h1"], "lead") == {}
    store.put_vectors({"h1": np.ones(4, dtype=np.float64)}, "lead")
    lead = store.get_vectors(["h1"], "lead")["h1"]
    assert lead.dtype == np.float32 and np.array_equal(lead, np.ones(4))
    store.put_vectors({}, "doc")
    assert store.get_vectors([], "doc") == {}


def test_get_vectors_many_hashes(store: Store) -> None:
    items = {f"h{i}": np.full(2, i, dtype=np.float32) for i in range(1300)}
    store.put_vectors(items, "doc")
    got = store.get_vectors((f"h{i}" for i in range(1400)), "doc")
    assert len(got) == 1300 and got["h1299"][0] == 1299.0
    assert store.vector_keys((f"h{i}" for i in range(1250, 1400)), "doc") == {f"h{i}" for i in range(1250, 1300)}
    assert store.vector_keys(["h1"], "lead") == set() and store.vector_keys([], "doc") == set()


# -- assignments ---------------------------------------------------------------------------------
def test_assignments_insert_replace_order(store: Store) -> None:
    for i in ("c", "a", "b"):
        store.add_article(proc(i, i))
    store.put_assignments([assign("b", "ev-2"), assign("a"), assign("c", score=0.25)])
    assert store.get_assignment("a") == assign("a")
    got = store.get_assignments(["c", "missing", "a", "a"])
    assert got == {"a": assign("a"), "c": assign("c", score=0.25)} and store.get_assignments([]) == {}
    assert store.get_assignment("missing") is None
    store.put_assignments([assign("b", "ev-3", 0.9)])
    assert store.get_assignment("b") == assign("b", "ev-3", 0.9)
    assert [a.article_id for a in store.iter_assignments()] == ["c", "a", "b"]
    assert len(list(store.iter_assignments())) == 3
    store.put_assignments([])


# -- events and stories --------------------------------------------------------------------------
def make_event(eid: str, created: str, **kw: object) -> Event:
    return Event(id=eid, article_ids=kw.pop("article_ids", ["a"]), created=created, **kw)  # type: ignore[arg-type]


def test_events_put_get_replace_delete_iterate(store: Store) -> None:
    full = make_event(
        "ev-2", "2024-01-02T00:00:00", article_ids=["a", "b"], date=dt.date(2024, 1, 1),
        date_range=(dt.date(2023, 12, 30), dt.date(2024, 1, 2)), languages={"en": 1, "fr": 1},
        sources={"AFP": 2}, title="Talks in Genève", headline="Talks resume", summary="Çà et là.",
        keyphrases=["peace talks"], entities=[("geneva", "Genève", 2)], story="st-1",
    )  # fmt: skip
    store.put_event(full)
    store.put_event(make_event("ev-1", "2024-01-01T00:00:00"))
    store.put_event(make_event("ev-0", "2024-01-02T00:00:00"))
    got = store.get_event("ev-2")
    assert got == full
    assert got is not None and isinstance(got.entities[0], tuple)
    assert isinstance(got.date_range, tuple)
    assert store.get_event("missing") is None
    assert [e.id for e in store.iter_events()] == ["ev-1", "ev-0", "ev-2"]
    replaced = make_event("ev-2", "2024-01-02T00:00:00", article_ids=["a", "b", "c"])
    store.put_event(replaced)
    assert store.get_event("ev-2") == replaced
    assert [e.id for e in store.iter_events()] == ["ev-1", "ev-0", "ev-2"]
    store.delete_event("ev-0")
    store.delete_event("never-existed")
    assert [e.id for e in store.iter_events()] == ["ev-1", "ev-2"]


def test_stories_put_get_replace_delete(store: Store) -> None:
    story = Story("st-1", ["ev-1", "ev-2"], "Dialogue", "Résumé", dt.date(2020, 1, 1), None)
    store.put_story(story)
    store.put_story(Story("st-2", ["ev-3"]))
    assert store.get_story("st-1") == story
    assert store.get_story("missing") is None
    story.event_ids.append("ev-4")
    store.put_story(story)
    assert store.get_story("st-1") == story
    assert sorted(s.id for s in store.iter_stories()) == ["st-1", "st-2"]
    store.delete_story("st-2")
    assert [s.id for s in store.iter_stories()] == ["st-1"]


def test_merge_log_and_resolve_chains(store: Store) -> None:
    m1 = Merge("event", "ev-a", "ev-b", 0.8, "2024-01-01T00:00:00", "converged")
    m2 = Merge("event", "ev-b", "ev-c", 0.7, "2024-01-02T00:00:00")
    m3 = Merge("story", "st-a", "st-b", 0.6, "2024-01-03T00:00:00")
    for m in (m1, m2, m3):
        store.record_merge(m)
    assert store.merges() == [m1, m2, m3]
    assert store.merges("event") == [m1, m2]
    assert store.merges("story") == [m3]
    assert store.resolve("event", "ev-a") == "ev-c"
    assert store.resolve("event", "ev-b") == "ev-c"
    assert store.resolve("event", "ev-c") == "ev-c"
    assert store.resolve("story", "ev-a") == "ev-a"
    assert store.resolve("event", "unknown") == "unknown"
    store.record_merge(Merge("event", "ev-c", "ev-a", 0.1, "2024-01-04T00:00:00"))  # a cycle
    assert store.resolve("event", "ev-a") in {"ev-a", "ev-b", "ev-c"}


def test_get_of_merged_id_returns_survivor(store: Store) -> None:
    for eid in ("ev-a", "ev-b", "ev-c"):
        store.put_event(make_event(eid, "2024-01-01"))
    with store.transaction():
        store.record_merge(Merge("event", "ev-a", "ev-b", 0.9, "t1"))
        store.delete_event("ev-a")
    with store.transaction():
        store.record_merge(Merge("event", "ev-b", "ev-c", 0.9, "t2"))
        store.delete_event("ev-b")
    for eid in ("ev-a", "ev-b", "ev-c"):
        got = store.get_event(eid)
        assert got is not None and got.id == "ev-c"
    assert [e.id for e in store.iter_events()] == ["ev-c"]
    store.put_story(Story("st-b", ["ev-c"]))
    store.record_merge(Merge("story", "st-a", "st-b", 0.9, "t3"))
    got_story = store.get_story("st-a")
    assert got_story is not None and got_story.id == "st-b"


def test_state(store: Store) -> None:
    assert store.get_state("threshold") is None
    store.set_state("threshold", "0.55")
    store.set_state("threshold", "0.6")
    store.set_state("ünïcode", "värde")
    assert store.get_state("threshold") == "0.6"
    assert store.get_state("ünïcode") == "värde"


def test_state_parts(store: Store) -> None:
    assert store.get_state_parts("linker") == {}
    store.set_state_parts("linker", {"ev-b": "2", "ev-a": "1", "ev-c": "3"})
    store.set_state_parts("other", {"ev-a": "x"})
    store.set_state_parts("linker", {"ev-b": "2'", "ev-d": "4"}, removed=["ev-c", "ev-none"])
    assert store.get_state_parts("linker") == {"ev-a": "1", "ev-b": "2'", "ev-d": "4"}
    assert list(store.get_state_parts("linker")) == ["ev-a", "ev-b", "ev-d"]  # by part name
    store.set_state_parts("linker", {"ev-e": "5"}, clear=True)
    assert store.get_state_parts("linker") == {"ev-e": "5"}
    assert store.get_state_parts("other") == {"ev-a": "x"}  # other keys untouched
    with pytest.raises(RuntimeError), store.transaction():
        store.set_state_parts("linker", {"ev-f": "6"}, clear=True)
        raise RuntimeError("roll back")
    assert store.get_state_parts("linker") == {"ev-e": "5"}


def test_state_parts_default_for_other_stores(store: Store) -> None:
    """A store that only implements the contract keeps the parts in its state table."""
    parts_of = Store.get_state_parts.__get__(store)
    set_parts = Store.set_state_parts.__get__(store)
    set_parts("k", {"b": "2", "a": "1"})
    set_parts("k", {"c": "3"}, removed=["b"])
    assert parts_of("k") == {"a": "1", "c": "3"} and list(parts_of("k")) == ["a", "c"]
    set_parts("k", {"d": "4"}, clear=True)
    assert parts_of("k") == {"d": "4"}


# -- transactions --------------------------------------------------------------------------------
def test_transaction_rollback_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_article(proc("a"))
        store.put_vectors({"h": np.ones(3, dtype=np.float32)}, "doc")
        store.put_assignments([assign("a")])
        store.put_event(make_event("ev-1", "t"))
        store.record_merge(Merge("event", "x", "y", 1.0, "t"))
        store.set_state("k", "v")
        raise RuntimeError("boom")
    assert store.count_articles() == 0
    assert store.get_vectors(["h"], "doc") == {}
    assert store.get_assignment("a") is None
    assert list(store.iter_events()) == []
    assert store.merges() == []
    assert store.get_state("k") is None
    store.add_article(proc("b"))  # the store is usable afterwards
    assert store.count_articles() == 1


def test_nested_transaction(store: Store) -> None:
    with store.transaction():
        store.add_article(proc("a"))
        with store.transaction():
            store.add_article(proc("b"))
            with store.transaction():
                store.set_state("k", "v")
        assert store.count_articles() == 2
    assert [p.id for p in store.iter_articles()] == ["a", "b"]
    assert store.get_state("k") == "v"
    with pytest.raises(ValueError), store.transaction():
        store.add_article(proc("c"))
        with store.transaction():
            store.add_article(proc("d"))
            raise ValueError
    assert store.count_articles() == 2


def test_nested_failure_caught_inside_keeps_outer_writes(store: Store) -> None:
    with store.transaction():
        store.add_article(proc("a"))
        with pytest.raises(ValueError), store.transaction():
            store.add_article(proc("b"))
            raise ValueError
    assert [p.id for p in store.iter_articles()] == ["a"]


# -- persistence and concurrency (persistent stores only) ---------------------------------------
def _need_persistent(factory: StoreFactory) -> None:
    if not factory.persistent:
        pytest.skip(f"{factory.name} does not persist")


def test_corrections_and_decisions(store: Store) -> None:
    from storyline.checks.store import check_corrections_and_decisions

    check_corrections_and_decisions(store, repr(store))


def test_reopen_keeps_everything(factory: StoreFactory, store: Store) -> None:
    _need_persistent(factory)
    item = proc("a", "Grüße", published=dt.date(2024, 2, 29))
    store.add_article(item)
    store.put_vectors({"h": np.arange(6, dtype=np.float32).reshape(2, 3)}, "sents")
    store.put_assignments([assign("a")])
    store.put_event(make_event("ev-1", "t"))
    store.put_story(Story("st-1", ["ev-1"]))
    store.record_merge(Merge("event", "ev-0", "ev-1", 0.5, "t"))
    store.set_state("k", "v")
    url = store.url
    store.close()
    with open_store(url) as again:
        assert again.get_article("a") == item
        assert again.get_vectors(["h"], "sents")["h"].shape == (2, 3)
        assert again.get_assignment("a") == assign("a")
        got = again.get_event("ev-0")
        assert got is not None and got.id == "ev-1"
        assert again.get_story("st-1") == Story("st-1", ["ev-1"])
        assert again.get_state("k") == "v"


def test_two_connections_writer_and_reader(factory: StoreFactory, store: Store) -> None:
    _need_persistent(factory)
    store.add_article(proc("a"))
    other = open_store(store.url, **({"timeout": 5.0} if isinstance(store, SQLiteStore) else {}))
    try:
        with store.transaction():
            store.add_article(proc("b"))
            # the reader sees the last committed state, without "database is locked"
            assert other.count_articles() == 1
            assert other.get_article("a") is not None and other.get_article("b") is None
        assert other.count_articles() == 2

        errors: list[BaseException] = []
        in_tx = threading.Event()

        def second_writer() -> None:
            try:
                in_tx.wait(5)
                other.add_article(proc("d"))  # waits for the first writer's lock
            except (StoreError, sqlite3.Error) as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=second_writer)
        thread.start()
        with store.transaction():
            store.add_article(proc("c"))
            in_tx.set()
            threading.Event().wait(0.2)
        thread.join(10)
        assert not errors
        assert sorted(p.id for p in store.iter_articles()) == ["a", "b", "c", "d"]
    finally:
        other.close()


def test_shared_store_across_threads(store: Store) -> None:
    def work(n: int) -> None:
        for i in range(20):
            with store.transaction():
                store.add_article(proc(f"{n}-{i}", f"{n} {i}"))
                store.put_assignments([assign(f"{n}-{i}")])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_articles() == 80
    assert len(list(store.iter_assignments())) == 80


# -- open_store and SQLite-specific checks -------------------------------------------------------
def test_open_store_urls(tmp_path: Path) -> None:
    for url in (":memory:", "sqlite://", "sqlite:///:memory:"):
        with open_store(url) as s:
            assert isinstance(s, SQLiteStore) and s.memory
    with open_store(tmp_path / "p.db") as s:
        s.set_state("k", "v")
    with open_store(str(tmp_path / "p.db")) as s:
        assert s.get_state("k") == "v"
    with open_store(f"sqlite:///{tmp_path / 'sub' / 'q.db'}") as s:
        assert isinstance(s, SQLiteStore)
    assert (tmp_path / "sub" / "q.db").exists()
    with pytest.raises(StoreError, match="unknown store URL scheme 'mongodb'"):
        open_store("mongodb://localhost/x")


def test_open_store_postgres_without_extra() -> None:
    try:
        import storyline.store.postgres  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtra, match="postgres"):
            open_store("postgresql://localhost/storyline")
    else:  # pragma: no cover - once the postgres store exists
        pytest.skip("storyline.store.postgres is installed")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "x.db") as s:
        pragma = s._conn.execute
        assert pragma("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert pragma("PRAGMA foreign_keys").fetchone()[0] == 1
        assert pragma("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert pragma("PRAGMA busy_timeout").fetchone()[0] == 30000


def test_newer_schema_version_raises(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_older_database_gets_missing_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.db"
    with SQLiteStore(path) as s:
        s.add_article(proc("a"))
    version = migrations_module.LATEST_VERSION + 1
    extra = migrations_module.Migration(
        version, "test: add a column", ("ALTER TABLE state ADD COLUMN note TEXT",)
    )
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, extra])
    with SQLiteStore(path) as s:
        assert migrations_module.current_version(s._conn) == version
        assert s.count_articles() == 1
        columns = [r[1] for r in s._conn.execute("PRAGMA table_info(state)")]
        assert "note" in columns
    with SQLiteStore(path) as s:  # applying is idempotent
        assert migrations_module.current_version(s._conn) == version


def test_version_1_database_gets_the_corrections_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store written before corrections existed opens with its data and gains the tables."""
    path = tmp_path / "x.db"
    monkeypatch.setattr(migrations_module, "MIGRATIONS", migrations_module.MIGRATIONS[:1])
    with SQLiteStore(path) as s:
        s.add_article(proc("a"))
        assert migrations_module.current_version(s._conn) == 1
    monkeypatch.undo()
    with SQLiteStore(path) as s:
        assert migrations_module.current_version(s._conn) == migrations_module.LATEST_VERSION
        assert s.count_articles() == 1 and s.corrections() == [] and s.get_decision("a") is None


def test_version_2_database_gets_the_state_parts_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.db"
    monkeypatch.setattr(migrations_module, "MIGRATIONS", migrations_module.MIGRATIONS[:2])
    with SQLiteStore(path) as s:
        s.set_state("stories", "{}")
    monkeypatch.undo()
    with SQLiteStore(path) as s:
        assert s.get_state("stories") == "{}" and s.get_state_parts("stories") == {}
        s.set_state_parts("stories", {"ev-1": "{}"})
        assert s.get_state_parts("stories") == {"ev-1": "{}"}


def test_not_a_database_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(path)


def test_writer_gives_up_with_store_error_when_locked_too_long(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with SQLiteStore(path) as holder, SQLiteStore(path, timeout=0.01) as impatient:
        with holder.transaction():
            holder.set_state("k", "held")
            with pytest.raises(StoreError, match="locked by another writer"):
                impatient.set_state("k", "other")
        impatient.set_state("k", "other")  # the lock is free again
        assert holder.get_state("k") == "other"


# -- SQLite extras (not part of the Store contract) ----------------------------------------------
def test_sqlite_extras(tmp_path: Path) -> None:
    with SQLiteStore(":memory:") as s:
        for i in ("a", "b", "c"):
            s.add_article(proc(i, f"text {i}"))
        s.put_event(
            make_event("ev-1", "2024-01-01", article_ids=["b", "a"], title="Séisme au Japon")
        )
        s.put_event(make_event("ev-2", "2024-01-02", article_ids=["c"], headline="ÉLECTIONS"))
        s.put_event(make_event("ev-3", "2024-01-03", article_ids=[], summary="Élections locales"))
        s.put_assignments([assign("a", "ev-1"), assign("b", "ev-1"), assign("c", "ev-9")])
        s.record_merge(Merge("event", "ev-9", "ev-2", 0.9, "t"))
        assert s.count_events() == 3
        assert s.events_for_articles(["a", "c", "nope"]) == {"a": "ev-1", "c": "ev-2"}
        assert [e.id for e in s.search_events("élections")] == ["ev-3", "ev-2"]
        assert [e.id for e in s.search_events("japon", limit=1)] == ["ev-1"]
        assert s.search_events("   ") == [] and s.search_events("absent") == []
        assert [p.id for p in s.articles_of_event("ev-1")] == ["a", "b"]
        assert [p.id for p in s.articles_of_event("ev-9")] == ["c"]
        assert s.articles_of_event("missing") == []


def test_writer_lock_is_reentrant_across_runs(store: Store) -> None:
    # a pipeline holds it around each run; writes inside it commit as usual
    for n in range(2):
        with store.writer_lock():
            store.set_state("k", str(n))
    assert store.get_state("k") == "1"
