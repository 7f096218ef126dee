"""End-to-end behaviour of the pipeline on the seeds and the bundled examples.

The seeds: 000, 001, 002 and 004 report the June 2020 US-Iraq strategic dialogue (one event,
English and French), 003 the January 2024 talks on ending the coalition mission (another
event of the same story). What must hold whatever the scorer: the result does not depend on
the order of the input, ids are stable across runs, and a reopened store keeps everything.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from storyline import Article, Pipeline
from storyline.cluster.batch import cluster_batch
from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.ingest import read_inputs
from storyline.prepare.article import prepare
from storyline.represent.builder import FeatureBuilder

SEED_EVENTS = {
    frozenset({"000", "001", "002", "004"}),  # 2020-06: strategic dialogue, troop reduction
    frozenset({"003"}),  # 2024-01: talks on ending the coalition mission
}


def _short(article_id: str) -> str:
    return article_id.split("_", 1)[0]  # seed ids are "000_b1958a346e760a50"


def partition(event_of: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for aid, ev in event_of.items():
        groups.setdefault(ev, set()).add(_short(aid))
    return {frozenset(g) for g in groups.values()}


def _events(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {a.article_id: a.event for a in report.assignments}


@pytest.fixture(scope="module")
def seed_articles(seeds_dir: Path) -> list[Article]:
    items = list(read_inputs([str(seeds_dir)]))
    assert all(isinstance(a, Article) for a in items), items
    assert [_short(a.id) for a in items] == ["000", "001", "002", "003", "004"]
    return items  # type: ignore[return-value]


@pytest.fixture(scope="module")
def seed_features(seed_articles, encoder):  # type: ignore[no-untyped-def]
    """Features of the five seeds, computed once (what the clusterer sees)."""
    processed = [prepare(a) for a in seed_articles]
    builder = FeatureBuilder(encoder)
    builder.observe(processed)
    return builder.build(processed)


@pytest.fixture(scope="module")
def one_run(seed_articles, encoder):  # type: ignore[no-untyped-def]
    """Event of every seed after one run of the default pipeline over all five."""
    pipe = Pipeline(":memory:", encoder=encoder)
    return _events(pipe.run(seed_articles))


# -- (a) the seeds' events --------------------------------------------------------------------
def test_seeds_cluster_into_their_two_events(tmp_path: Path, seeds_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    pipe = Pipeline(str(tmp_path / "s.db"), encoder=encoder)
    report = pipe.run([str(seeds_dir)])
    assert report.new == 5 and not report.skipped
    assert partition(_events(report)) == SEED_EVENTS


def test_examples_cluster_into_their_three_events(examples_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    gold = {}
    for line in (examples_dir / "news.gold.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        gold[row["id"]] = row["event"]
    # the .txt articles' events, as listed in examples/README.md
    gold |= {
        "t01": "quake-turkey-syria-2023-02-06",
        "t02": "quake-morocco-2023-09-08",
        "t03": "chandrayaan3-landing-2023-08-23",
    }
    pipe = Pipeline(":memory:", encoder=encoder)
    report = pipe.run([str(examples_dir / "news.jsonl"), str(examples_dir / "txt")])
    assert not report.skipped
    assert report.new == len(gold) == 17
    assert partition(_events(report)) == partition(gold)
    langs = {a.article_id: a.lang for a in report.assignments}
    assert set(langs.values()) == {"en", "fr", "de", "es"}


def test_mixed_languages_sample_gives_its_two_events(examples_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    """examples/mixed.jsonl: the Derna floods reported in ten languages, most written apart, and
    a ferry fire in four. The Arabic, Hindi, Chinese and Ukrainian reports name Libya and Derna
    in their own scripts: without those names found, they were four events of their own."""
    gold = {}
    for line in (examples_dir / "mixed.gold.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        gold[row["id"]] = row["event"]
    report = Pipeline(":memory:", encoder=encoder).run([str(examples_dir / "mixed.jsonl")])
    assert partition(_events(report)) == partition(gold)


# -- (b) order independence -------------------------------------------------------------------
def _clusterer_results(feats, orders) -> set[frozenset[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    results = set()
    for order in orders:
        clusterer = OnlineClusterer(PairScorer(second=None), dim=feats[0].doc.shape[0])
        event_of = cluster_batch(clusterer, list(order))
        results.add(frozenset(event_of.items()))  # same partition and the same ids
    return results


def test_clusterer_same_events_for_some_orders(seed_features) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    orders = [seed_features, list(reversed(seed_features))]
    orders += [rng.sample(seed_features, len(seed_features)) for _ in range(4)]
    results = _clusterer_results(seed_features, orders)
    assert len(results) == 1, [partition(dict(r)) for r in results]


@pytest.mark.slow
def test_clusterer_same_events_for_all_120_orders(seed_features) -> None:  # type: ignore[no-untyped-def]
    results = _clusterer_results(seed_features, itertools.permutations(seed_features))
    assert len(results) == 1, [partition(dict(r)) for r in results]


def _pipeline_events(articles: list[Article], encoder) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return _events(Pipeline(":memory:", encoder=encoder).run(articles))


def test_pipeline_same_events_for_some_orders(seed_articles, encoder, one_run) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    orders = [list(reversed(seed_articles))]
    orders += [rng.sample(seed_articles, len(seed_articles)) for _ in range(4)]
    for order in orders:
        assert _pipeline_events(order, encoder) == one_run, [_short(a.id) for a in order]


@pytest.mark.slow
def test_pipeline_same_events_for_all_120_orders(seed_articles, encoder, one_run) -> None:  # type: ignore[no-untyped-def]
    for order in itertools.permutations(seed_articles):
        assert _pipeline_events(list(order), encoder) == one_run, [_short(a.id) for a in order]


# -- (c) stable ids across runs ---------------------------------------------------------------
def test_two_runs_match_one_run_and_keep_ids(tmp_path: Path, seed_articles, encoder, one_run) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "two.db")
    first = Pipeline(db, encoder=encoder)
    r1 = first.run(seed_articles[:3])
    before = _events(r1)
    first.store.close()

    second = Pipeline(db, encoder=encoder)  # a new object: memory restored from the store
    r2 = second.run(seed_articles[3:])
    assert r2.new == 2 and r2.known == 0
    after = {a.article_id: a.event for a in second.store.iter_assignments()}
    assert set(after) == {a.id for a in seed_articles}
    assert partition(after) == partition(one_run)

    merged = {m.loser: m.winner for m in second.store.merges("event")}
    for aid, ev in before.items():
        if after[aid] != ev:  # an id changes only through a logged merge
            assert ev in merged, f"{aid}: event {ev} became {after[aid]} without a merge"
            assert second.store.resolve("event", ev) == after[aid]

    again = second.run(seed_articles)
    assert again.new == 0 and again.known == 5 and not again.merges
    assert _events(again) == after
    second.store.close()


def test_ingesting_everything_again_adds_nothing(seeds_db_copy: Path, seeds_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    pipe = Pipeline(str(seeds_db_copy), encoder=encoder)
    before = {a.article_id: a for a in pipe.store.iter_assignments()}
    report = pipe.run([str(seeds_dir)])
    assert report.new == 0 and report.known == 5 and not report.skipped
    assert {a.article_id: a for a in report.assignments} == before
    assert pipe.store.count_articles() == 5


# -- (d) a reopened store ---------------------------------------------------------------------
def test_reopened_store_keeps_events_and_stories(seeds_db_copy: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    from storyline import open_store

    store = open_store(str(seeds_db_copy))
    events = {e.id: (e.size, e.story, sorted(e.article_ids)) for e in store.iter_events()}
    stories = {s.id: sorted(s.event_ids) for s in store.iter_stories()}
    assignments = {a.article_id: a for a in store.iter_assignments()}
    store.close()
    assert events and stories and len(assignments) == 5

    pipe = Pipeline(str(seeds_db_copy), encoder=encoder)
    assert {e.id: (e.size, e.story, sorted(e.article_ids)) for e in pipe.store.iter_events()} == events
    assert {s.id: sorted(s.event_ids) for s in pipe.store.iter_stories()} == stories
    assert {a.article_id: a for a in pipe.store.iter_assignments()} == assignments
    assert pipe.clusterer.n_events_ == len(events)
    assert set(pipe.linker.story_of_) == set(events)


def test_a_run_lets_the_input_texts_go_once_they_are_stored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The run holds the compact features of its articles, not their texts: by the time it
    clusters, the inputs it was given (dicts here: only the run holds their Articles) are
    no longer in memory, apart from the chunks being read back from the store."""
    import gc

    from storyline import Pipeline
    from storyline.model import Article
    from storyline.represent.encoder import HashingEncoder

    n = 1500
    rows = [
        {"id": f"a{i}", "title": f"Report {i}", "text": f"Town {i % 97} council met on day {i}. " * 5,
         "published": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}"}
        for i in range(n)
    ]
    alive: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "cluster" and done > total // 2 and not alive:
            gc.collect()
            alive.append(sum(isinstance(o, Article) for o in gc.get_objects()))

    pipe = Pipeline(str(tmp_path / "s.db"), encoder=HashingEncoder(), second=False, offload=False,
                    progress=progress)
    report = pipe.run(rows)
    assert report.new == n and alive
    assert alive[0] < n // 2, f"{alive[0]} Article objects alive while clustering {n}"
