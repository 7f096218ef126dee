"""`storyline why`: the explanation's probability is the decision's, for every article of the
seeds and of the bundled sample, recomputed from the stored data after a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyline import Pipeline
from storyline.cli import main
from storyline.errors import NotFound
from storyline.explain import Explainer, explain_lines, pair_lines
from storyline.represent.encoder import HashingEncoder

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("inputs", [["tests/data/seeds"], ["examples/news.jsonl"]], ids=["seeds", "sample"])
def test_explanation_probability_is_the_decisions(tmp_path: Path, encoder, inputs) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.db"
    Pipeline(str(path), encoder=encoder).run([str(REPO / i) for i in inputs])
    p = Pipeline(str(path), encoder=encoder)  # a restart: features from the stored vectors
    explainers = [Explainer.for_pipeline(p), Explainer.for_store(p.store)]
    n = 0
    for a in p.store.iter_assignments():
        for ex in explainers[:1]:
            e = ex.article(a.article_id)
            d = e["decision"]
            assert d["score"] == a.score == e["score"]
            assert d["action"] in {"joined", "new"}
            assert (d["action"] == "joined") == (d["score"] >= d["threshold"])
            scores = [c["score"] for c in e["candidates"] if not c["excluded"]]
            assert max(scores, default=0.0) == d["score"]
            for c in e["candidates"]:
                if "recomputed" in c:  # the same mean over the same members, from stored data
                    assert c["recomputed"] == pytest.approx(c["score"], abs=1e-12)
                    n += 1
            chosen = [c for c in e["candidates"] if c["event"] == d["event"]]
            if d["action"] == "joined":
                assert chosen[0]["recomputed"] == pytest.approx(a.score, abs=1e-12)
            assert explain_lines(e)[0].startswith(f"article {a.article_id} is in event {a.event}")
    assert n > 0
    # the read-only explainer (HTTP, CLI) agrees with the pipeline's
    for a in p.store.iter_assignments():
        one, two = (ex.article(a.article_id) for ex in explainers)
        assert [c.get("recomputed") for c in one["candidates"]] == pytest.approx(
            [c.get("recomputed") for c in two["candidates"]], abs=1e-12
        )


def test_pair_evidence_names_shared_keys_and_sentences(seeds_db: Path) -> None:
    from storyline.store import open_store

    store = open_store(str(seeds_db))
    ex = Explainer.for_store(store)
    ids = sorted(a.article_id for a in store.iter_assignments())
    same = ex.pair(ids[1], ids[2])  # one AFP dispatch and its machine translation
    assert same["same_event"] and same["probability"] >= same["threshold"]
    assert any(n["key"] for n in same["names"]) and same["numbers"]
    assert same["sentences"][0]["cos"] > 0.8
    far = ex.pair(ids[0], ids[3])  # 2020 vs 2024: one story, two events
    assert not far["same_event"] and far["date_gap_days"] and abs(far["date_gap_days"]) > 1000
    assert any("iraq" in n["key"].lower() or n["key"] == "country:IQ" for n in far["names"])
    text = "\n".join(pair_lines(far))
    assert "< threshold" in text and "days apart" in text
    with pytest.raises(NotFound):
        ex.pair(ids[0], "nope")
    with pytest.raises(NotFound):
        ex.article("nope")
    store.close()


def test_why_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLINE_ENCODER", "hashing")
    db = str(tmp_path / "x.db")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(REPO / "examples" / "news.jsonl"), "--db", db, "-q"]).exit_code == 0
    r = runner.invoke(main, ["why", "n02", "--db", db])
    assert r.exit_code == 0, r.output
    assert "is in event" in r.output and "threshold" in r.output
    r = runner.invoke(main, ["why", "n02", "--db", db, "--json"])
    data = json.loads(r.output)
    p = Pipeline(db, encoder=HashingEncoder(), second=False)
    assert data["decision"]["score"] == p.store.get_assignment("n02").score
    r = runner.invoke(main, ["why", "--pair", "n01", "n02", "--db", db])
    assert r.exit_code == 0 and "probability" in r.output and "shared names" in r.output
    assert runner.invoke(main, ["why", "--db", db]).exit_code == 2  # neither id nor --pair
    r = runner.invoke(main, ["why", "nope", "--db", db])
    assert r.exit_code == 4 and "no stored article" in r.output
    assert runner.invoke(main, ["why", "n01", "--db", str(tmp_path / "missing.db")]).exit_code != 0
