"""Articles in a language the sentence encoder lacks find their event through the second encoder.

Their sentence vectors are noise (an Icelandic report never has its English original among
its 30 nearest by multilingual USE on WMT21 dev; by e5 it is in the nearest 10 for 90 %), so
the clusterer asks the second encoder for candidates: each event's first member gets a second
vector once, when such an article first needs it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from storyline.cluster.batch import cluster_batch
from storyline.cluster.online import OnlineClusterer
from storyline.represent.features import ArticleFeatures


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class SameTag:
    """A scorer that knows the answer (the event tag before ``/`` in the id): only the
    candidates are under test."""

    meta: ClassVar[dict[str, object]] = {}

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.second = self._second

    def _second(self, f: ArticleFeatures) -> np.ndarray | None:
        self.asked.append(f.id)
        return f.second

    def fill_second(self, a: ArticleFeatures, others: object) -> None:
        return None

    def fingerprint(self) -> tuple[object, ...]:
        return (self,)

    def score_grid(self, a, b, need=None):  # type: ignore[no-untyped-def]
        grid = np.array([[float(x.id.split("/")[0] == y.id.split("/")[0]) for y in b] for x in a])
        return grid if need is None else grid[need]

    def score_many(self, a, others):  # type: ignore[no-untyped-def]
        return self.score_grid([a], others)[0]


def _article(aid: str, covered: bool, doc: np.ndarray, second: np.ndarray) -> ArticleFeatures:
    empty = (np.zeros(0, np.uint32), np.zeros(0, np.float32))
    return ArticleFeatures(
        id=aid, lang="en" if covered else "is", date=None, doc=doc.astype(np.float16),
        lead=doc.astype(np.float16), terms=empty, names=frozenset(), numbers=frozenset(),
        covered=covered, length=100, sents=None, second=second.astype(np.float32),
    )


def test_uncovered_articles_join_their_event_through_the_second_encoder() -> None:
    rng = np.random.default_rng(5)
    n = 40
    docs = _unit(rng.standard_normal((2 * n, 16)))  # the uncovered half: unrelated noise
    secs = _unit(rng.standard_normal((n, 8)))
    covered = [_article(f"e{i}/en", True, docs[i], secs[i]) for i in range(n)]
    uncovered = [
        _article(f"e{i}/is", False, docs[n + i], _unit(secs[i] + 0.1 * rng.standard_normal(8)))
        for i in range(n)
    ]
    scorer = SameTag()
    clusterer = OnlineClusterer(scorer, threshold=0.5, merge_threshold=0.5, dim=16)  # type: ignore[arg-type]
    events = cluster_batch(clusterer, covered + uncovered)
    joined = sum(events[f"e{i}/is"] == events[f"e{i}/en"] for i in range(n))
    assert joined == n
    # each event's representative vector is asked for once, not once per article
    assert scorer.asked.count("e0/en") <= 2


def test_an_uncovered_article_first_is_merged_with_its_later_original() -> None:
    rng = np.random.default_rng(6)
    n = 20
    docs = _unit(rng.standard_normal((2 * n, 16)))
    secs = _unit(rng.standard_normal((n, 8)))
    first = [_article(f"a{i}/is", False, docs[n + i], secs[i]) for i in range(n)]
    later = [_article(f"a{i}/en", True, docs[i], secs[i]) for i in range(n)]
    clusterer = OnlineClusterer(SameTag(), threshold=0.5, merge_threshold=0.5, dim=16)  # type: ignore[arg-type]
    for f in first + later:  # online order: the Icelandic report comes first
        clusterer.learn_one(f)
    clusterer.repair()
    events = clusterer.event_of_
    assert all(events[f"a{i}/is"] == events[f"a{i}/en"] for i in range(n))


class MappedSecond:
    """A second encoder with a text hook: what the packaged e5 map path calls."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors
        self.texts: list[str] = []

    def __call__(self, f: ArticleFeatures) -> np.ndarray | None:
        return f.second

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.stack([self.vectors[t] for t in texts])


def test_a_map_into_the_sentence_space_finds_events_without_their_second_vectors() -> None:
    rng = np.random.default_rng(7)
    n = 40
    secs = _unit(rng.standard_normal((n, 8)))
    m = rng.standard_normal((8, 16))  # the two spaces: covered documents sit at secs @ m
    docs = _unit(secs @ m)
    noise = _unit(rng.standard_normal((n, 16)))
    covered = [_article(f"e{i}/en", True, docs[i], secs[i]) for i in range(n)]
    uncovered = []
    for i in range(n):
        f = _article(f"e{i}/is", False, noise[i], secs[i])
        f.second_text = f"lead {i}"
        uncovered.append(f)
    vectors = {f"lead {i}"[:100]: _unit(secs[i] + 0.05 * rng.standard_normal(8)) for i in range(n)}
    scorer = SameTag()
    scorer.second = MappedSecond(vectors)  # type: ignore[assignment]
    clusterer = OnlineClusterer(  # type: ignore[arg-type]
        scorer, threshold=0.5, merge_threshold=0.5, dim=16, second_map=m.astype(np.float32)
    )
    events = cluster_batch(clusterer, covered + uncovered)
    assert sum(events[f"e{i}/is"] == events[f"e{i}/en"] for i in range(n)) == n
    # one short text per uncovered article, none for the events it was compared with
    assert sorted(scorer.second.texts) == sorted(vectors)  # type: ignore[attr-defined]
    # a map of other dimensions than the index is not used: the events' own vectors are
    other = OnlineClusterer(scorer, threshold=0.5, merge_threshold=0.5, dim=16,  # type: ignore[arg-type]
                            second_map=np.zeros((8, 5), np.float32))
    assert other._map() is None
