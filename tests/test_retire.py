"""Events behind the time window leave memory and come back when needed.

With a loader, the clusterer retires events ``retire_days`` behind the newest article: their
members' features are dropped; a late article or a repair that reaches one revives it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from test_scorer_fast import Gen

from storyline import Pipeline
from storyline.cluster.batch import sort_key
from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.cluster.window import _unpack
from storyline.ingest import read_inputs
from storyline.represent.features import ArticleFeatures


@pytest.fixture(scope="module")
def scorer() -> PairScorer:
    return PairScorer(second=lambda f: f.second)


@pytest.fixture(scope="module")
def dated() -> list[ArticleFeatures]:
    """Articles of 60 events spread over 200 days (some undated), in date order."""
    arts = [f for f in Gen(seed=11).articles(60)]
    return sorted(arts, key=sort_key)


def _clusterer(scorer: PairScorer, every: int, held: dict[str, ArticleFeatures] | None) -> OnlineClusterer:
    loader = None if held is None else (lambda ids: [held[a] for a in ids if a in held])
    return OnlineClusterer(scorer, window_days=15, retire_days=30, retire_every=every, loader=loader)


def test_without_a_loader_nothing_is_retired(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    clu = _clusterer(scorer, 1, None)
    for f in dated:
        clu.learn_one(f)
    assert not clu.retired_ and len(clu.feats_) == len(dated)


def test_retired_events_drop_their_features(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    held = {f.id: f for f in dated}
    clu = _clusterer(scorer, 4, held)
    for f in dated:
        clu.learn_one(f)
    assert clu.retired_, "nothing was retired"
    newest = max(f.date for f in dated if f.date is not None)
    assert clu.hold_days == 15  # the window: features leave ...
    named = unnamed = 0
    for ev in clu.retired_:
        assert not any(a in clu.feats_ for a in clu.members_[ev])
        assert clu.event_date(ev) < newest - dt.timedelta(days=15)
        led = any(ev in evs for _, evs in clu.key_events_.items())
        # ... names lead to them until retire_days
        assert led == (clu.event_date(ev) >= newest - dt.timedelta(days=30)) == (ev in clu._named)
        named, unnamed = named + led, unnamed + (not led)
    assert named and unnamed
    live = set(clu.members_) - clu.retired_
    assert set(clu.feats_) == {a for ev in live for a in clu.members_[ev]}
    assert len(clu.feats_) < len(dated)


def test_retiring_keeps_the_decisions(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    """The loader gives back the very same features: every article lands as without retiring."""
    held = {f.id: f for f in dated}
    plain, retiring = _clusterer(scorer, 4, None), _clusterer(scorer, 4, held)
    for f in dated:
        plain.learn_one(f)
        retiring.learn_one(f)
    plain.repair()
    retiring.repair()
    assert retiring.retired_
    assert retiring.event_of_ == plain.event_of_


def test_a_late_article_revives_its_event(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    held = {f.id: f for f in dated}
    clu = _clusterer(scorer, 4, held)
    for f in dated:
        clu.learn_one(f)
    ev = min(clu.retired_, key=lambda e: (-len(clu.members_[e]), e))
    first = held[clu.members_[ev][0]]
    late = dataclasses.replace(first, id="late-copy", key="late-copy")
    got, score = clu.learn_one(late)
    assert got == ev and score >= clu.threshold
    assert clu.revivals_ >= 1 and ev not in clu.retired_
    assert all(a in clu.feats_ for a in clu.members_[ev])


def test_a_loader_that_lost_an_article_is_a_clear_error(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    held = {f.id: f for f in dated}
    clu = _clusterer(scorer, 4, held)
    for f in dated:
        clu.learn_one(f)
    ev = next(iter(sorted(clu.retired_)))
    held.pop(clu.members_[ev][0])
    with pytest.raises(RuntimeError, match="cannot revive event"):
        clu._revive(ev)


def test_pipeline_retires_and_revives_from_its_store(tmp_path: Path, seeds_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    """The seeds: four articles of June 2020, one of January 2024. Once the 2024 article is in,
    the 2020 event is retired; a late 2020 article brings it back from the store."""
    arts = list(read_inputs([str(seeds_dir)]))
    pipe = Pipeline(tmp_path / "s.db", encoder=encoder)
    pipe.clusterer.retire_every = 1
    rep = pipe.run(arts)
    clu = pipe.clusterer
    by_id = {a.article_id: a.event for a in rep.assignments}
    old_ev = by_id[next(a for a in by_id if a.startswith("000"))]
    assert old_ev in clu.retired_
    assert not any(a in clu.feats_ for a in clu.members_[old_ev])
    src = next(a for a in arts if a.id.startswith("001"))
    late = dataclasses.replace(src, id="late-001", text=src.text + "\n\nThis article was updated.")
    kept = {a: clu._retired_terms[a] for a in clu.members_[old_ev]}
    calls: list[dict] = []
    load = pipe.builder.load
    clu.loader = lambda ids, terms=None: calls.append(dict(terms or {})) or load(ids, terms)
    got = pipe.learn_one(late)
    assert got.event == old_ev
    assert clu.revivals_ >= 1
    # the loader was given the tf-idf weights kept for the members, and they are theirs again
    assert calls and sorted(calls[0]) == sorted(kept) and kept

    def same(x, y) -> bool:  # type: ignore[no-untyped-def]
        return x[0].dtype == y[0].dtype and (x[0] == y[0]).all() and (x[1] == y[1]).all()

    assert all(same(calls[0][a], _unpack(kept[a])) for a in kept)
    assert all(same(clu.feats_[a].terms, _unpack(kept[a])) for a in kept if a in clu.feats_)
    # the store agrees, and a reopened store restores the same events
    assert pipe.store.get_assignment("late-001").event == old_ev
    again = Pipeline(tmp_path / "s.db", encoder=encoder)
    assert again.clusterer.event_of_ == clu.event_of_
    assert old_ev in again.clusterer.retired_  # retired once the store is read
    assert not any(a in again.clusterer.feats_ for a in again.clusterer.members_[old_ev])


def test_large_events_keep_only_the_members_samples_read(scorer: PairScorer) -> None:
    """Members in the middle of a large event are never sampled again: dropping their features
    changes no decision, no merge and no score."""
    gen = Gen(seed=5)
    arts = []
    for ev in range(12):
        e = gen.event(ev)
        arts += [gen.article(e, f"b{ev:02d}_{j:02d}") for j in range(int(gen.rng.integers(8, 30)))]
    order = gen.rng.permutation(len(arts))
    arts = [arts[i] for i in order]

    def make() -> OnlineClusterer:
        return OnlineClusterer(scorer, max_members=6, link_members=4, uncovered_members=3)

    plain, trimmed = make(), make()
    plain._trim = lambda ev: None  # type: ignore[method-assign]
    got = [(trimmed.learn_one(f), plain.learn_one(f)) for f in arts]
    assert all(a == b for a, b in got)
    trimmed.repair()
    plain.repair()
    assert trimmed.event_of_ == plain.event_of_
    assert [(m.loser, m.winner, m.score) for m in trimmed.merges_] == [(m.loser, m.winner, m.score) for m in plain.merges_]
    assert max(len(m) for m in trimmed.members_.values()) > 16
    assert len(trimmed.feats_) < len(plain.feats_)
    assert {k: v for k, v in trimmed.key_events_.items() if v} == {k: v for k, v in plain.key_events_.items() if v}
    for ev, ids in trimmed.members_.items():
        assert trimmed.event_date(ev) == plain.event_date(ev)
        assert len([a for a in ids if a in trimmed.feats_]) <= 4 * 3 + 15  # trimmed every 16 joins


def test_what_a_repair_revives_is_retired_again(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    """An event a repair brought back only to compare it (unchanged, still behind the horizon)
    leaves memory again at the end of the repair, not at the next retiring."""
    held = {f.id: f for f in dated}
    clu = _clusterer(scorer, 4, held)
    for f in dated:
        clu.learn_one(f)
    before = clu.revivals_
    clu.repair()
    assert clu.revivals_ > before, "the repair revived nothing"
    assert clu._newest is not None
    horizon = clu._newest - dt.timedelta(days=30)
    stale = [
        ev for ev in clu.members_
        if ev not in clu.retired_ and ev in clu._settled and (d := clu.event_date(ev)) is not None and d < horizon
    ]
    assert not stale
    live = set(clu.members_) - clu.retired_
    assert set(clu.feats_) == {a for ev in live for a in clu.members_[ev]}


def test_a_revived_member_keeps_its_tf_idf_weights(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    """The store's loader weighs terms by today's counts; a revived member keeps the weights it
    was scored with, so retiring and reviving decide as holding everything would."""
    held = {f.id: f for f in dated}

    def today(ids: list[str]) -> list[ArticleFeatures]:  # other counts: other weights
        return [dataclasses.replace(held[a], terms=(held[a].terms[0], held[a].terms[1][::-1].copy())) for a in ids]

    plain = _clusterer(scorer, 4, None)
    retiring = OnlineClusterer(scorer, window_days=15, retire_days=30, retire_every=4, loader=today)
    for f in dated:
        plain.learn_one(f)
        retiring.learn_one(f)
    plain.repair()
    retiring.repair()
    assert retiring.revivals_ > 0
    assert retiring.event_of_ == plain.event_of_
    ev = min(retiring.retired_, key=lambda e: (len(retiring.members_[e]) > 24, e))
    retiring._revive(ev)
    for a in retiring.members_[ev]:
        got, kept = retiring.feats_[a].terms, held[a].terms
        assert got[0].dtype == kept[0].dtype and (got[0] == kept[0]).all() and (got[1] == kept[1]).all()


def test_a_replaced_loader_is_asked_its_own_way(scorer: PairScorer, dated: list[ArticleFeatures]) -> None:
    """Whether the loader takes ``terms`` is read once per loader: a loader put in its place
    later is read again (one without the keyword is never given it)."""
    held = {f.id: f for f in dated}
    calls: list[str] = []

    def with_terms(ids: list[str], terms: object = None) -> list[ArticleFeatures]:
        calls.append("with")
        return [held[a] for a in ids]

    def plain(ids: list[str]) -> list[ArticleFeatures]:
        calls.append("plain")
        return [held[a] for a in ids]

    clu = OnlineClusterer(scorer, window_days=15, retire_days=30, retire_every=4, loader=with_terms)
    for f in dated:
        clu.learn_one(f)
    first, second = sorted(clu.retired_)[:2]
    clu._revive(first)
    clu.loader = plain
    clu._revive(second)
    assert calls[-2:] == ["with", "plain"]
