"""Distributed ingest: workers prepare, encode and store; the one clusterer assigns from the store.

The promise tested here: ingesting on N workers and then assigning the stored articles gives
exactly the assignments (events, stories, families) of one process clustering the same input,
whatever N, with nothing encoded twice and nothing stored twice when batches run again.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from storyline.cluster.online import OnlineClusterer
from storyline.cluster.scorer import PairScorer
from storyline.model import Article
from storyline.represent.builder import second_text
from storyline.represent.encoder import HashingEncoder, LazySecondVectors
from storyline.run import backends, distributed
from storyline.run.distributed import IngestWorker, WorkerSpec, ingest
from storyline.run.pipeline import Pipeline
from storyline.store import open_store

VOCAB = [f"{a}{b}" for a in ("kar", "mel", "dun", "sol", "vit", "rho", "zan") for b in ("ax", "en", "ir", "om", "us")]
COVERED = frozenset({"en"})  # the sentence encoder "covers" English only: Icelandic takes the second path


def articles(n: int = 150) -> list[Article]:
    """About n/3 topics of three articles each, every third in Icelandic, dated out of input order."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        words = random.Random(i // 3).sample(VOCAB, 8)
        text = ". ".join(f"{w.title()} officials reported {rng.choice(words)} damage in {w}" for w in words)
        day = dt.date(2024, 1, 1) + dt.timedelta(days=(i // 3) % 40)
        out.append(Article(f"a{(i * 37) % n:03d}", text + ".", lang="is" if i % 3 == 2 else "en",
                           published=day, source=f"s{i % 4}"))
    return out


def pipeline(store: str) -> Pipeline:
    enc = HashingEncoder(languages=COVERED)
    strict = OnlineClusterer(PairScorer(), threshold=0.95, merge_threshold=0.95, dim=enc.dim)
    pipe = Pipeline(store, encoder=enc, clusterer=strict, second=LazySecondVectors(HashingEncoder(64)))
    pipe.scorer.second.store = pipe.store  # type: ignore[union-attr]
    return pipe


def outcome(pipe: Pipeline) -> list[tuple[str, str, str, str]]:
    return sorted((a.article_id, a.event, a.story, a.family) for a in pipe.store.iter_assignments())


def test_workers_store_and_one_clusterer_assigns_as_one_process(tmp_path: Path) -> None:
    arts = articles()
    one = pipeline(str(tmp_path / "one.db"))
    one.run(arts)
    expected = outcome(one)
    assert len({e for _, e, _, _ in expected}) >= 20  # many events: a real partition to compare

    for workers in (1, 2):
        pipe = pipeline(str(tmp_path / f"w{workers}.db"))
        rep = ingest(pipe, arts, workers=workers, backend="process", batch=16)
        assert len(rep.stored) == len(arts) and rep.known == 0 and not rep.skipped
        assert pipe.store.count_articles() == len(arts) and not list(pipe.store.iter_assignments())
        assert sorted(pipe.unassigned()) == sorted(a.id for a in arts)
        report = pipe.assign(rep.order)
        assert [a.article_id for a in report.assignments] == rep.order and report.new == len(arts)
        assert outcome(pipe) == expected, f"{workers} worker(s)"
        # vectors: sentences and titles of every article; second vectors of the Icelandic
        # ones, computed by the workers (the covered ones only when the clusterer needed them)
        hashes = {p.id: p.article.hash for p in pipe.store.iter_articles()}
        assert pipe.store.vector_keys(hashes.values(), "hashing-256:sents") == set(hashes.values())
        icelandic = [p for p in pipe.store.iter_articles() if p.lang == "is"]
        seconds = pipe.store.get_vectors([p.article.hash for p in icelandic], "hashing-64:lead")
        assert len(seconds) == len(icelandic)
        for p in icelandic[:5]:
            assert np.allclose(seconds[p.article.hash], HashingEncoder(64).encode([second_text(p)])[0])
        pipe.store.close()
    one.store.close()


def test_assign_encodes_nothing_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process opens the store the workers filled and assigns without encoding."""
    arts = articles(60)
    db = str(tmp_path / "s.db")
    first = pipeline(db)
    ingest(first, arts, workers=2, backend="process", batch=16)
    first.store.close()
    calls: list[tuple[int, int]] = []
    real = HashingEncoder.encode

    def spy(self, texts):  # type: ignore[no-untyped-def]
        if texts:
            calls.append((self.dim, len(texts)))
        return real(self, texts)

    monkeypatch.setattr(HashingEncoder, "encode", spy)
    later = pipeline(db)
    assert len(later.unassigned()) == 60
    report = later.assign(later.unassigned())
    assert report.new == 60 and len(report.assignments) == 60
    # never a sentence vector (256-d); only second vectors (64-d) of covered articles that
    # the clusterer compared with Icelandic ones (the workers leave those to it)
    assert all(dim == 64 for dim, _ in calls), calls
    later.store.close()


def test_a_batch_run_twice_stores_nothing_twice(tmp_path: Path) -> None:
    """Idempotent under retries: a worker writing the same batch again adds no row."""
    db = tmp_path / "s.db"
    open_store(str(db)).close()
    spec = WorkerSpec(HashingEncoder(languages=COVERED).spec(), HashingEncoder(64), f"sqlite:///{db}")
    worker = IngestWorker(spec)
    batch = articles(12)
    first = worker.run(batch)
    again = worker.run(batch)
    worker.close()
    assert len(first.stored) == 12 and again.stored == []
    assert first.texts > 0 and first.second == 4
    store = open_store(str(db))
    try:
        assert store.count_articles() == 12
        rows = store._all("SELECT kind, COUNT(*) AS n FROM vectors GROUP BY kind ORDER BY kind")  # type: ignore[attr-defined]
        assert [(r["kind"], r["n"]) for r in rows] == [
            ("hashing-256:sents", 12), ("hashing-256:title", 12), ("hashing-64:lead", 4)
        ]
    finally:
        store.close()


def test_ingest_again_and_what_is_cached(tmp_path: Path) -> None:
    """Known articles are counted, not sent; articles whose vectors are stored are not encoded."""
    arts = articles(30)
    pipe = pipeline(str(tmp_path / "s.db"))
    ingest(pipe, arts[:20], workers=1, backend="process")
    pipe.assign()
    rep = ingest(pipe, arts, workers=2, backend="process", batch=8)
    assert rep.known == 20 and len(rep.stored) == 10
    # a copy of a stored text under a new id: stored, its vectors found by content hash
    copy = Article("copy", arts[0].text, lang="en", published=arts[0].published)
    rep = ingest(pipe, [copy], workers=1, backend="process")
    assert rep.stored == ["copy"] and rep.texts == 0
    pipe.assign()
    assert {a.article_id for a in pipe.store.iter_assignments()} == {a.id for a in arts} | {"copy"}
    pipe.store.close()


def test_bad_inputs_are_skipped_with_reasons(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = articles(5)
    bad.write_text(
        "\n".join([json.dumps({"id": "x1", "text": ""}), "{not json",
                   *[json.dumps({"id": a.id, "text": a.text, "lang": a.lang}) for a in good]]) + "\n"
    )
    pipe = pipeline(str(tmp_path / "s.db"))
    rep = ingest(pipe, [str(bad)], workers=1, backend="process")
    assert len(rep.stored) == 5 and len(rep.skipped) == 2
    with pytest.raises(Exception, match="no such file"):
        ingest(pipe, [str(tmp_path / "missing.jsonl")], workers=1, backend="process")
    with pytest.raises(Exception, match="unknown ingest backend"):
        ingest(pipe, [str(bad)], workers=1, backend="threads")
    pipe.store.close()


def test_cli_ingest_no_assign_then_assign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from storyline.cli import main

    examples = Path(__file__).resolve().parents[1] / "examples"
    monkeypatch.setenv("STORYLINE_ENCODER", "hashing")
    runner = CliRunner()
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    res = runner.invoke(main, ["cluster", str(examples / "news.jsonl"), "--db", str(tmp_path / "1.db"), "--out", str(one), "-q"])
    assert res.exit_code == 0, res.output
    args = ["ingest", str(examples / "news.jsonl"), "--db", str(tmp_path / "2.db"), "--workers", "2", "--no-assign", "-q"]
    if importlib.util.find_spec("ray") is not None:
        monkeypatch.setattr(distributed, "start_backend", _process_only)
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "stored by 2" in res.output and "storyline assign" in res.output
    res = runner.invoke(main, ["assign", "--db", str(tmp_path / "2.db"), "--out", str(two)])
    assert res.exit_code == 0, res.output
    assert sorted(one.read_text().splitlines()) == sorted(two.read_text().splitlines())
    res = runner.invoke(main, ["ingest", str(examples / "news.jsonl"), "--db", str(tmp_path / "3.db"), "--no-assign"])
    assert res.exit_code != 0 and "--no-assign needs ingest workers" in res.output
    res = runner.invoke(main, ["assign", "--db", str(tmp_path / "missing.db")])
    assert res.exit_code != 0 and "no store at" in res.output


def _process_only(name, spec, workers, address, repeated):  # type: ignore[no-untyped-def]
    return backends.ProcessBackend(spec, workers, repeated)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray not installed (storyline[ray])")
def test_ray_workers_into_postgres_give_the_single_process_assignments(tmp_path: Path) -> None:
    """2 Ray workers write articles and vectors into Postgres themselves; the one clusterer
    then assigns exactly as a single process clustering into SQLite does."""
    import ray
    from conftest_postgres import postgres_url

    url = postgres_url(os.environ)
    store = open_store(url)
    store.reset()  # type: ignore[attr-defined]
    store.close()
    arts = articles(120)
    one = pipeline(str(tmp_path / "one.db"))
    one.run(arts)
    expected = outcome(one)
    one.store.close()

    pipe = pipeline(url)
    try:
        rep = ingest(pipe, arts, workers=2, backend="ray", batch=16)
        assert rep.backend == "Ray" and len(rep.stored) == len(arts)
        assert not ray.is_initialized()  # the local Ray it started is stopped
        pipe.assign(rep.order)
        assert outcome(pipe) == expected
        again = ingest(pipe, arts, workers=2, backend="ray")
        assert again.known == len(arts) and not again.stored
    finally:
        pipe.store.close()
