"""Candidates ruled out without the second encoder.

A pair with an article outside the sentence encoder's languages needs both articles' e5
vectors (about 50 ms each). When a candidate event's mean probability stays below the
threshold for every value the e5 cosine could take, its members' vectors are not computed:
the decisions are those made with them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from storyline.cluster.batch import cluster_batch
from storyline.cluster.online import OnlineClusterer
from storyline.cluster.pairs import FEATURES, cap_disjoint, features_grid
from storyline.cluster.scorer import PairScorer
from storyline.cluster.tree import TreeModel
from storyline.represent.features import ArticleFeatures

SECOND = FEATURES.index("second_cos")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class CountingSecond:
    """Second vectors read from the features, counting the articles they were computed for;
    ``encode`` (the candidate search's query) reads them by text."""

    def __init__(self, feats: list[ArticleFeatures]) -> None:
        self.computed: set[str] = set()
        self.by_text = {f.second_text: f.second for f in feats}

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.by_text[t] for t in texts])

    def __call__(self, f: ArticleFeatures) -> np.ndarray | None:
        self.computed.add(f.id)
        return f.second

    def fill(self, feats: list[ArticleFeatures]) -> None:
        for f in feats:
            self.computed.add(f.id)


class NoBounds(PairScorer):
    upper_grid = None  # type: ignore[assignment]  # every candidate compared in full


MAP = np.random.default_rng(0).standard_normal((16, 32)).astype(np.float32)  # second -> sentence space


def _world(seed: int = 3, events: int = 30) -> list[ArticleFeatures]:
    """Events of two covered reports, every third one with an uncovered report too: names,
    numbers and a date in common, near sentence vectors for the covered ones, near second
    vectors for all (the second space maps onto the sentence space by ``MAP``)."""
    rng = np.random.default_rng(seed)
    empty = (np.zeros(0, np.uint32), np.zeros(0, np.float32))
    out = []
    base = dt.date(2023, 3, 1)
    for e in range(events):
        sec = _unit(rng.standard_normal(16))
        centre = _unit(sec @ MAP)
        names = frozenset({f"person:p{e}", f"place:c{e % 7}", f"org:o{e}"})
        numbers = frozenset({str(100 + e), str(7 * e + 3)})
        day = base + dt.timedelta(days=int(rng.integers(0, 20)))
        for k, covered in enumerate((True, True, False) if e % 3 == 0 else (True, True)):
            doc = _unit(centre + 0.3 * rng.standard_normal(32)) if covered else _unit(rng.standard_normal(32))
            out.append(ArticleFeatures(
                id=f"e{e:02d}/{k}", lang="en" if covered else "is", date=day,
                doc=doc.astype(np.float16), lead=doc.astype(np.float16), terms=empty,
                names=names, numbers=numbers, covered=covered, length=1500,
                sents=doc[None, :].astype(np.float16),
                second=_unit(sec + 0.15 * rng.standard_normal(16)).astype(np.float32),
                key=f"e{e:02d}/{k}", published=day, second_text=f"e{e:02d}/{k}",
            ))  # fmt: skip
    return sorted(out, key=lambda f: (f.date, f.id))


def test_the_bound_is_never_below_the_probability_and_is_reached() -> None:
    feats = _world(seed=4, events=12)
    scorer = PairScorer(second=CountingSecond(feats))
    uncovered = [f for f in feats if not f.covered]
    for f in uncovered[:4]:
        up, need = scorer.upper_grid([f], feats)  # type: ignore[misc]
        assert need[0].all()  # an uncovered article needs the second encoder with everyone
        exact = scorer.score_grid([f], feats)[0]
        assert np.all(exact <= up[0] + 1e-12)
        # the bound is the largest probability over the cosine's range: forcing the cosine
        # to values on a fine grid (and the model's own cut points) never exceeds it and
        # reaches it
        x = features_grid([f], feats, None, None)[0]
        values = np.union1d(np.linspace(-1, 1, 801), scorer.model.interval_values(SECOND, -1.0, 1.0))
        for j in np.flatnonzero(need[0]):
            rows = np.repeat(x[j : j + 1], len(values), axis=0)
            rows[:, SECOND] = values
            p = cap_disjoint(rows, scorer.model.predict_proba(rows))
            assert p.max() == up[0, j]
        # pairs without an uncovered side get their probability
        assert np.array_equal(up[0, ~need[0]], exact[~need[0]])


def test_interval_values_cover_every_interval_of_the_splits() -> None:
    model, _ = TreeModel.load()
    values = model.interval_values(SECOND, -1.0, 1.0)
    cuts = np.unique(model.threshold[(model.feature == SECOND) & ~model.is_leaf])
    inside = cuts[(cuts >= -1.0) & (cuts < 1.0)]
    assert len(inside) > 0  # the shipped model splits on the second cosine
    assert values[-1] == 1.0 and np.array_equal(values[:-1], inside)


def test_ruled_out_candidates_decide_as_with_their_second_vectors() -> None:
    feats = _world()
    full, lazy = CountingSecond(feats), CountingSecond(feats)
    kw = {"threshold": 0.6, "merge_threshold": 0.7, "dim": 32, "second_map": MAP}
    with_all = cluster_batch(OnlineClusterer(NoBounds(second=full), **kw), feats)
    clusterer = OnlineClusterer(PairScorer(second=lazy), **kw)
    bounded = cluster_batch(clusterer, feats)
    assert bounded == with_all
    # the uncovered reports joined their events (the test is not vacuous) ...
    joined = sum(bounded[f"e{e:02d}/2"] == bounded[f"e{e:02d}/0"] for e in range(0, 30, 3))
    assert joined >= 8
    # ... while far fewer articles needed a second vector
    assert len(lazy.computed) < 0.7 * len(full.computed)
    # ruled-out candidates are recorded as upper bounds
    records = [c for d in clusterer.decisions_.values() for c in d["candidates"]]
    assert any(c.get("at_most") for c in records)
    assert all(c["score"] < 0.6 for c in records if c.get("at_most"))
