"""Articles with and without a publication date are decided at their own thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.explain import Explainer
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline

TEXT = "The council of {city} voted on Tuesday to close the old bridge for repairs. Work starts in May."


@pytest.mark.parametrize("dated", [True, False], ids=["dated", "undated"])
def test_the_threshold_follows_the_publication_date(tmp_path: Path, dated: bool) -> None:
    rows = [{"id": f"a{i}", "text": TEXT.format(city="Lyon"), "lang": "en"} for i in range(2)]
    rows[1]["text"] += " Residents were told by letter."
    if dated:
        for r in rows:
            r["published"] = "2024-03-05"
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # dated articles never join (threshold above any probability); undated ones always do
    clusterer = OnlineClusterer(PairScorer(), threshold=1.01, merge_threshold=1.01,
                                undated_threshold=0.0, undated_merge_threshold=1.01,
                                dim=HashingEncoder().dim)  # fmt: skip
    pipe = Pipeline(str(tmp_path / "t.db"), encoder=HashingEncoder(), second=False, clusterer=clusterer)
    report = pipe.run([str(path)])
    assert len({a.event for a in report.assignments}) == (2 if dated else 1)
    why = Explainer.for_pipeline(pipe).article("a1")
    assert why["decision"]["threshold"] == why["threshold"] == (1.01 if dated else 0.0)
    assert Explainer.for_pipeline(pipe).pair("a1", "a0")["threshold"] == (1.01 if dated else 0.0)


def test_undated_thresholds_come_from_the_model_file_else_the_dated_ones() -> None:
    shipped = PairScorer()
    c = OnlineClusterer(shipped)
    assert (c.threshold, c.merge_threshold) == (shipped.meta["threshold"], shipped.meta["merge_threshold"])
    assert (c.undated_threshold, c.undated_merge_threshold) == (
        shipped.meta["undated_threshold"], shipped.meta["undated_merge_threshold"])
    given = OnlineClusterer(shipped, threshold=0.7, merge_threshold=0.8)  # given: for both kinds
    assert (given.undated_threshold, given.undated_merge_threshold) == (0.7, 0.8)
    assert given.clone().get_params()["undated_threshold"] == 0.7
    bare = OnlineClusterer(PairScorer(model=shipped.model))  # a model file without them
    assert (bare.undated_threshold, bare.undated_merge_threshold) == (bare.threshold, bare.merge_threshold)
