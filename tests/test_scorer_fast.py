"""The fast scoring paths give the decisions of the plain ones.

* the clusterer's pair-probability cache: the same events, merges and scores as without it;
* the vectorized pair features (``PairScorer.features`` / ``features_grid``) equal the
  single-pair reference ``pair_features`` on random and edge cases;
* the tree walk matches a plain per-tree walk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import FEATURES, PairScorer, pair_features
from storyline.represent.features import ArticleFeatures

DIM = 512


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class Gen:
    """Random articles around event centres: some share sentences counts, languages, dates."""

    def __init__(self, seed: int = 3, keys: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.keys = keys  # entity keys among the names: the event's person in every article
        self.g = _unit(self.rng.standard_normal(DIM))

    def event(self, ev: int) -> dict:
        rng = self.rng
        centre = _unit(0.5 * self.g + _unit(rng.standard_normal(DIM)))
        return {
            "ev": ev,
            "centre": centre,
            "noise": float(rng.uniform(0.4, 1.3)),  # how alike its articles' sentences are
            "names": (
                # name words and entity keys: two specific (a person, a city), one weak (a country)
                [f"per:e{ev}n0", f"e{ev}n1", f"city:e{ev}n2", f"e{ev}n3", "country:c0", "common1", "common2"]
                if self.keys else [f"e{ev}n{j}" for j in range(4)] + [f"common{j}" for j in range(3)]
            ),
            "numbers": [str(100 + ev * 7 + j) for j in range(3)],
            "terms": rng.choice(2**31, size=60, replace=False),
            "date": None if ev % 7 == 3 else dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 200))),
            "lang": ["en", "en", "de", "fr", "sw"][ev % 5],
        }

    def article(self, e: dict, aid: str, sents: str = "random") -> ArticleFeatures:
        rng = self.rng
        if sents == "none":
            s = None
        elif sents == "empty":
            s = np.zeros((0, DIM), np.float16)
        else:
            n = int(rng.integers(1, 9))
            s = _unit(e["centre"][None, :] + e["noise"] * rng.standard_normal((n, DIM)) / np.sqrt(DIM))
            s = s.astype(np.float16)
        base = e["centre"] if s is None or len(s) == 0 else s.astype(np.float32).mean(0)
        doc = _unit(base + 0.3 * rng.standard_normal(DIM) / np.sqrt(DIM)).astype(np.float16)
        lead = _unit(base + 0.6 * rng.standard_normal(DIM) / np.sqrt(DIM)).astype(np.float16)
        ids = np.unique(np.concatenate([rng.choice(e["terms"], 30, replace=False),
                                        rng.integers(0, 2**31, 40)])).astype(np.int64)
        w = rng.random(len(ids)).astype(np.float32) + 0.05
        w /= np.float32(np.linalg.norm(w))
        covered = e["lang"] != "sw"
        date = e["date"]
        if date is not None and rng.random() < 0.8:
            date = date + dt.timedelta(days=int(rng.integers(0, 3)))
        elif rng.random() < 0.3:
            date = None
        second = None
        if not covered or rng.random() < 0.5:  # the lazily filled vector, when some pair needed it
            second = _unit(e["centre"][:384] + 0.5 * rng.standard_normal(384) / np.sqrt(384)).astype(np.float32)
        if self.keys:  # the event's person in every article, two more of its names at random
            names = {e["names"][0]} | set(rng.choice(e["names"][1:], 2, replace=False))
        else:
            names = set(rng.choice(e["names"], 3, replace=False))
        names |= {f"x{int(v)}" for v in rng.integers(0, 50, 2)}
        return ArticleFeatures(
            id=aid,
            lang=e["lang"] if rng.random() < 0.9 else "en",
            date=date,
            doc=doc,
            lead=lead,
            terms=(ids, w),
            names=frozenset(names) if rng.random() < 0.9 else frozenset(),
            numbers=frozenset(rng.choice(e["numbers"], 2, replace=False)) if rng.random() < 0.8 else frozenset(),
            covered=covered,
            length=int(rng.integers(0, 5000)),
            sents=s,
            second=second,
            key=aid,
            years=frozenset({str(date.year)}) if date is not None and rng.random() < 0.7 else frozenset(),
        )

    def articles(self, n_events: int) -> list[ArticleFeatures]:
        out = []
        for ev in range(n_events):
            e = self.event(ev)
            for j in range(int(self.rng.integers(1, 5))):
                kind = ["random"] * 6 + ["none", "empty"]
                out.append(self.article(e, f"a{ev:03d}_{j}", kind[int(self.rng.integers(len(kind)))]))
        order = self.rng.permutation(len(out))
        return [out[i] for i in order]


@pytest.fixture(scope="module")
def scorer() -> PairScorer:
    return PairScorer(second=lambda f: f.second)


@pytest.fixture(scope="module")
def arts() -> list[ArticleFeatures]:
    return Gen().articles(70)


def _run(clu: OnlineClusterer, feats: list[ArticleFeatures]) -> tuple:
    scores = []
    for start in range(0, len(feats), 40):
        part = feats[start : start + 40]
        scores += [clu.learn_one(f) for f in part]
        clu.repair({clu.event_of_[f.id] for f in part})
    merges = [(m.loser, m.winner, m.score) for m in clu.merges_]
    return dict(clu.event_of_), merges, scores


# -- pair-probability cache --------------------------------------------------------------------
def test_pair_cache_gives_the_same_clustering(scorer: PairScorer, arts: list[ArticleFeatures]) -> None:
    plain = OnlineClusterer(scorer, pair_cache_size=0)
    cached = OnlineClusterer(scorer)
    small = OnlineClusterer(scorer, pair_cache_size=40)
    want = _run(plain, arts)
    assert len(set(want[0].values())) < len(arts)  # something joined
    assert want[1], "no merge: the repair path was not exercised"
    assert _run(cached, arts) == want
    assert _run(small, arts) == want
    assert cached.pairs_.hits_ > 0 and plain.pairs_.hits_ == 0
    assert len(small.pairs_) <= 40


def test_pair_cache_is_dropped_when_the_scorer_changes(scorer: PairScorer, arts: list[ArticleFeatures]) -> None:
    clu = OnlineClusterer(scorer)
    clu._pair_probs(arts[:3], arts[3:6])
    assert clu.pairs_.current_
    clu.scorer = PairScorer(model=scorer.model, second=None)
    clu.scorer.meta = scorer.meta
    clu._pair_probs(arts[:1], arts[3:4])
    assert len(clu.pairs_.current_) == 1


def test_features_symmetric_unless_as_many_sentences(scorer: PairScorer, arts: list[ArticleFeatures]) -> None:
    """The cache key is unordered exactly when the pair's features do not depend on the order."""
    n = 0
    for a in arts[:25]:
        for b in arts[25:50]:
            na = 0 if a.sents is None else len(a.sents)
            nb = 0 if b.sents is None else len(b.sents)
            if na == 0 or na != nb:
                assert pair_features(a, b, scorer.second) == pair_features(b, a, scorer.second)
                n += 1
    assert n > 100


# -- vectorized features -----------------------------------------------------------------------
def _reference(scorer: PairScorer, a: list[ArticleFeatures], b: list[ArticleFeatures]) -> np.ndarray:
    return np.array([[pair_features(x, y, scorer.second) for y in b] for x in a]).reshape(len(a), len(b), -1)


def test_features_grid_equals_pair_features(scorer: PairScorer) -> None:
    # entity keys among the names, so that the specific-entity columns vary; publication a day
    # or two after the event date, so that pub_gap varies too
    arts = Gen(keys=True).articles(70)
    arts = [
        dataclasses.replace(f, published=f.date + dt.timedelta(days=i % 3)) if f.date else f
        for i, f in enumerate(arts)
    ]
    a, b = arts[:30], arts[30:]
    kinds = {("none" if f.sents is None else "empty" if len(f.sents) == 0 else "rows") for f in arts}
    assert kinds == {"none", "empty", "rows"}
    assert {f.covered for f in arts} == {True, False} and any(f.date is None for f in arts)
    grid = scorer.features_grid(a, b)
    ref = _reference(scorer, a, b)
    assert grid.shape == (30, len(b), len(FEATURES))
    assert np.allclose(grid, ref, rtol=0, atol=1e-5)
    # float16 vectors: the float64 products are exact, so the numbers are the very same
    assert np.array_equal(grid, ref)
    # every feature varies in this sample (the test is not vacuous)
    flat = ref.reshape(-1, len(FEATURES))
    assert all(len(np.unique(flat[:, k])) > 1 for k in range(len(FEATURES))), FEATURES
    # features(a, others) is one row of the grid
    for x in a[:5]:
        assert np.array_equal(scorer.features(x, b), _reference(scorer, [x], b)[0])


def test_features_grid_only_where_needed(scorer: PairScorer, arts: list[ArticleFeatures]) -> None:
    a, b = arts[:12], arts[12:40]
    need = np.random.default_rng(1).random((len(a), len(b))) < 0.3
    grid = scorer.features_grid(a, b, need)
    ref = _reference(scorer, a, b)
    assert np.array_equal(grid[need], ref[need])


@pytest.mark.parametrize("case", ["all_none", "all_empty", "one_each", "same_counts", "float32", "no_second"])
def test_features_grid_edge_cases(scorer: PairScorer, case: str) -> None:
    gen = Gen(11)
    e1, e2 = gen.event(0), gen.event(5)  # e2 is an uncovered language
    a = [gen.article(e1, f"x{i}") for i in range(4)] + [gen.article(e2, "xu")]
    b = [gen.article(e1, f"y{i}") for i in range(3)] + [gen.article(e2, f"yu{i}") for i in range(3)]
    sc = scorer
    if case == "all_none":
        for f in a + b:
            f.sents = None
    elif case == "all_empty":
        for f in a:
            f.sents = np.zeros((0, DIM), np.float16)
    elif case == "one_each":
        a[0].sents = None
        b[0].sents = np.zeros((0, DIM), np.float16)
        for f in a[1:] + b[1:]:
            f.sents = f.sents[:1] if f.sents is not None and len(f.sents) else f.sents
    elif case == "same_counts":
        for f in a + b:
            f.sents = np.concatenate([f.sents] * 8)[:5] if f.sents is not None and len(f.sents) else None
    elif case == "float32":  # not the stored dtype, but allowed: equal up to rounding
        for f in a + b:
            f.doc, f.lead = f.doc.astype(np.float32), f.lead.astype(np.float32)
            f.sents = None if f.sents is None else f.sents.astype(np.float32)
    elif case == "no_second":
        sc = PairScorer(model=scorer.model)
        b[-1].second = None
    grid = sc.features_grid(a, b)
    ref = _reference(sc, a, b)
    assert np.allclose(grid, ref, rtol=0, atol=1e-5)
    if case != "float32":
        assert np.array_equal(grid, ref)
    assert sc.features_grid(a, []).shape == (len(a), 0, len(FEATURES))
    assert sc.features(a[0], []).shape == (0, len(FEATURES))
    assert np.array_equal(sc.score_many(a[0], b), sc.model.predict_proba(ref[0]))


# -- tree model ----------------------------------------------------------------------------------
def test_tree_raw_equals_level_walk(scorer: PairScorer) -> None:
    """The QuickScorer evaluation reaches the same leaves as the walk: the very same sums,
    also for values equal to a threshold, NaN and -0.0."""
    model = scorer.model
    rng = np.random.default_rng(5)
    n = 4000
    x = rng.random((n, len(FEATURES))) * 2 - 0.5
    x[:, 13] = rng.random(n) * 7 - 1
    inner = ~model.is_leaf
    pick = rng.integers(0, int(inner.sum()), 3000)
    rows = rng.integers(0, n, 3000)
    x[rows, model.feature[inner][pick]] = model.threshold[inner][pick]
    x[rng.integers(0, n, 200), rng.integers(0, len(FEATURES), 200)] = np.nan
    x[:40, 3] = -0.0
    assert np.array_equal(model.raw(x), model.raw_walk(x))
    for k in (0, 1, 7):
        assert np.array_equal(model.raw(x[:k]), model.raw_walk(x[:k]))
    assert np.array_equal(model.predict_proba(x[:5]), 1.0 / (1.0 + np.exp(-model.raw_walk(x[:5]))))


# -- centroid index ------------------------------------------------------------------------------
@pytest.mark.parametrize("update", ["reinsert", "in_place"])
def test_centroid_index_upsert_moves_a_key(update: str) -> None:
    from storyline.cluster.index import CentroidIndex

    rng = np.random.default_rng(2)
    vecs = _unit(rng.standard_normal((300, 64))).astype(np.float32)
    idx = CentroidIndex(64, capacity=16, update=update)
    for i, v in enumerate(vecs):
        idx.upsert(f"e{i}", v)
    assert len(idx) == 300
    for i in range(0, 300, 3):  # move a third of them onto another vector
        idx.upsert(f"e{i}", vecs[(i + 1) % 300])
    assert len(idx) == 300
    assert idx.n_deleted == (100 if update == "reinsert" else 0)
    got = dict(idx.query(vecs[4], 3))
    assert {"e3", "e4"} <= set(got) and abs(got["e3"] - 1.0) < 1e-5  # e3 now sits on vecs[4]
    assert {k for k, _ in idx.query(vecs[1], 2)} == {"e0", "e1"}  # e0 moved onto e1's vector
    idx.remove("e3")
    assert "e3" not in dict(idx.query(vecs[4], 5)) and len(idx) == 299
    keys, stored = idx.vectors()
    assert len(keys) == 299 and np.allclose(stored[keys.index("e0")], vecs[1], atol=1e-6)
    assert len(idx.query(vecs[0], 500)) == 299


def test_centroid_index_rebuild_keeps_every_live_vector(monkeypatch) -> None:
    import storyline.cluster.index as index_module

    monkeypatch.setattr(index_module, "_BLOCK", 50)  # several blocks for reading and adding
    rng = np.random.default_rng(3)
    vecs = _unit(rng.standard_normal((700, 32))).astype(np.float32)
    idx = index_module.CentroidIndex(32)
    for i, v in enumerate(vecs[:600]):
        idx.upsert(f"e{i}", v)
    for i in range(400):  # re-centre until deleted points pass half the live ones
        idx.upsert(f"e{i}", vecs[600 + i % 100])
    assert idx.rebuilds == 1 and len(idx) == 600 and idx.n_deleted < 300
    keys, stored = idx.vectors()
    want = {f"e{i}": (vecs[600 + i % 100] if i < 400 else vecs[i]) for i in range(600)}
    assert sorted(keys) == sorted(want)
    assert all(np.allclose(stored[j], want[k], atol=1e-6) for j, k in enumerate(keys))
    for k in ("e450", "e599", "e0"):
        assert idx.query(want[k], 1)[0][1] > 0.999


def test_centroid_index_rejects_an_unknown_update_mode() -> None:
    from storyline.cluster.index import CentroidIndex

    with pytest.raises(ValueError):
        CentroidIndex(8, update="overwrite")
