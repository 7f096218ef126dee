"""What the pipeline's wiring promises: parameters come from the constructor, vectors are
cached per encoder, and a pipeline that catches up with another writer keeps its settings.
Model-free (hashing encoder), so these run anywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from storyline import Article, Pipeline
from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.represent.encoder import HashingEncoder
from storyline.stories.linker import StoryLinker

TEXTS = [
    "A magnitude 6.8 earthquake struck Morocco's High Atlas late on Friday, killing hundreds.",
    "Rescuers in Morocco searched the rubble of mountain villages after the earthquake.",
    "India's Chandrayaan-3 mission landed near the Moon's south pole on Wednesday.",
    "The lander of India's Moon mission sent its first pictures from the south pole.",
]


def _articles(prefix: str) -> list[Article]:
    return [
        Article(f"{prefix}{i}", t, lang="en", published=dt.date(2023, 9, 1 + i))
        for i, t in enumerate(TEXTS)
    ]


class Counting(HashingEncoder):
    """A hashing encoder under another name, counting the texts it encodes."""

    def __init__(self, dim: int, name: str) -> None:
        super().__init__(dim)
        self.name = name
        self.texts = 0

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.texts += len(texts)
        return super().encode(texts)


def test_another_encoder_never_reads_the_first_ones_vectors(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    first = Counting(64, "first")
    Pipeline(db, encoder=first, second=False).run(_articles("a"))
    assert first.texts > 0
    second = Counting(32, "second")  # another encoder, another dimension
    pipe = Pipeline(db, encoder=second, second=False)
    # reopening encodes the stored articles again with this encoder (nothing of "first" read)
    assert second.texts >= len(TEXTS)
    report = pipe.run(_articles("b"))
    assert len(report.assignments) == len(TEXTS)
    assert pipe.clusterer.centroid(report.assignments[0].event).shape == (32,)
    again = Counting(64, "first")  # the first encoder again: its vectors are still cached
    Pipeline(db, encoder=again, second=False)
    kinds = {"first:sents", "second:sents"}
    hashes = [p.article.hash for p in pipe.store.iter_articles(["a0"])]
    assert all(pipe.store.get_vectors(hashes, k) for k in kinds)
    assert again.texts == 0  # (the "b" articles have the "a" ones' texts: same content hashes)


def test_catching_up_with_another_writer_keeps_the_parameters(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    enc = HashingEncoder(64)
    scorer = PairScorer()
    mine = Pipeline(
        db, encoder=enc, second=False, scorer=scorer,
        clusterer=OnlineClusterer(scorer, dim=64, pair_cache_size=123, window_days=30),
        linker=StoryLinker(threshold=0.91),
    )
    mine.run(_articles("a"))
    Pipeline(db, encoder=enc, second=False).run(_articles("b"))  # another writer
    mine.run(_articles("c"))  # catches up: memory rebuilt from the store
    assert mine.clusterer.pair_cache_size == 123 and mine.clusterer.window_days == 30
    assert mine.linker.threshold == 0.91
    assert mine.clusterer.n_events_ >= 2
    assert mine.store.count_articles() == 3 * len(TEXTS)


def test_a_linker_passed_in_keeps_its_parameters_over_a_stored_state(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Pipeline(db, encoder=HashingEncoder(64), second=False).run(_articles("a"))
    again = Pipeline(db, encoder=HashingEncoder(64), second=False, linker=StoryLinker(threshold=0.93))
    assert again.linker.threshold == 0.93
    assert set(again.linker.story_of_) == {e.id for e in again.store.iter_events()}


def test_clone_copies_every_parameter() -> None:
    scorer = PairScorer()
    c = OnlineClusterer(scorer, dim=16, k=7, pair_cache_size=5, retire_every=9, window_days=12)
    twin = c.clone()
    assert twin.get_params() == c.get_params() and twin is not c and twin.scorer is scorer
    assert twin.n_events_ == 0
    assert c.clone(k=3).k == 3
    assert np.isclose(twin.threshold, c.threshold)


def test_rebuilding_stories_keeps_the_term_statistics(tmp_path: Path) -> None:
    pipe = Pipeline(tmp_path / "s.db", encoder=HashingEncoder(64), second=False)
    pipe.run(_articles("a"))
    builder = pipe.builder
    assert builder.counts.n_docs["en"] == len(TEXTS)
    pipe.rebuild_stories()
    assert pipe.builder is builder and builder.counts.n_docs["en"] == len(TEXTS)
    assert pipe.clusterer.loader == builder.load
    assert set(pipe.linker.story_of_) == {e.id for e in pipe.store.iter_events()}
