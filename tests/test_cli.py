"""The ``storyline`` command: help, the assignment file, the store commands, errors, stdin."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.cli.common import DB_HELP

OUT_KEYS = {"id", "event", "story", "family", "lang", "score"}
COMMANDS = sorted(main.commands)


def runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into output unless told not to
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def invoke(args: list[str], input: str | None = None):  # type: ignore[no-untyped-def]
    return runner().invoke(main, args, input=input, catch_exceptions=False)


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    """The run failed with exactly one ``storyline: error:`` line on stderr, no traceback."""
    assert result.exit_code not in (0, None), result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("storyline: error:"), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture(autouse=True)
def _cached_encoder(monkeypatch: pytest.MonkeyPatch, encoder) -> None:  # type: ignore[no-untyped-def]
    """Commands build the default pipeline; let them reuse the session's encoder."""
    monkeypatch.setattr("storyline.run.pipeline.USEEncoder", lambda *a, **k: encoder)


@pytest.fixture(scope="module")
def clustered(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path, encoder):  # type: ignore[no-untyped-def]
    """A store and an assignment file from ``storyline cluster`` over the examples."""
    tmp = tmp_path_factory.mktemp("cli")
    db, out = tmp / "ex.db", tmp / "a.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("storyline.run.pipeline.USEEncoder", lambda *a, **k: encoder)
        result = invoke(
            ["cluster", str(examples_dir / "news.jsonl"), str(examples_dir / "txt"),
             "--db", str(db), "--out", str(out)]
        )
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    return db, rows, result


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0 and "storyline" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = invoke([command, "--help"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert command in result.stdout.splitlines()[0]
    help_text = main.commands[command].help or ""
    assert help_text.split("\n")[0].strip()[:30] in " ".join(result.stdout.split())


def test_cluster_writes_one_line_per_article(clustered) -> None:  # type: ignore[no-untyped-def]
    _, rows, result = clustered
    assert len(rows) == 17
    for row in rows:
        assert set(row) == OUT_KEYS
        assert all(isinstance(row[k], str) and row[k] for k in ("id", "event", "story", "family"))
        assert isinstance(row["score"], float) and 0.0 <= row["score"] <= 1.0
    assert [r["id"] for r in rows[:14]] == [f"n{i:02d}" for i in range(1, 15)]  # input order
    assert {r["lang"] for r in rows} == {"en", "fr", "de", "es"}
    assert len({r["event"] for r in rows}) == 3
    assert "17 new" in result.stderr
    assert "event" in result.stdout and "headline" in result.stdout  # the events table


def test_events_lists_the_events(clustered) -> None:  # type: ignore[no-untyped-def]
    db, rows, _ = clustered
    result = invoke(["events", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    for ev in {r["event"] for r in rows}:
        assert ev in result.stdout


def test_show_an_event(clustered) -> None:  # type: ignore[no-untyped-def]
    db, rows, _ = clustered
    ev = rows[0]["event"]
    members = {r["id"] for r in rows if r["event"] == ev}
    result = invoke(["show", ev, "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(ev)
    for aid in members:
        assert aid in result.stdout
    as_json = json.loads(invoke(["show", ev, "--db", str(db), "--json"]).stdout)
    assert as_json["id"] == ev


@pytest.mark.parametrize("what", ["articles", "events", "stories"])
def test_export_jsonl_and_csv(clustered, tmp_path: Path, what: str) -> None:  # type: ignore[no-untyped-def]
    db, rows, _ = clustered
    result = invoke(["export", "--db", str(db), "--what", what])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = {"articles": 17, "events": 3, "stories": len({r["story"] for r in rows})}[what]
    assert len(records) == expected
    out = tmp_path / f"{what}.csv"
    result = invoke(["export", "--db", str(db), "--what", what, "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert len(table) == expected
    assert [r["id"] for r in table] == [r["id"] for r in records]
    if what == "articles":
        by_id = {r["id"]: r for r in rows}
        assert all(r["event"] == by_id[r["id"]]["event"] for r in table)


def test_stories_and_story(clustered) -> None:  # type: ignore[no-untyped-def]
    db, rows, _ = clustered
    result = invoke(["stories", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    story = rows[0]["story"]
    assert story in result.stdout
    result = invoke(["story", story, "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(story)
    assert rows[0]["event"] in result.stdout
    timeline = json.loads(invoke(["story", story, "--db", str(db), "--json"]).stdout)
    assert rows[0]["event"] in json.dumps(timeline)


def test_ingest_twice_adds_nothing(clustered, tmp_path: Path, examples_dir: Path) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = clustered
    copy = tmp_path / "copy.db"
    for part in db.parent.glob(db.name + "*"):  # the database and its write-ahead log
        shutil.copyfile(part, tmp_path / part.name.replace(db.name, copy.name))
    result = invoke(["ingest", str(examples_dir / "news.jsonl"), "--db", str(copy)])
    assert result.exit_code == 0, result.stderr
    assert "0 new, 14 already stored" in result.stderr


def test_eval_on_the_examples(examples_dir: Path) -> None:
    result = invoke(
        ["eval", str(examples_dir / "news.jsonl"), str(examples_dir / "news.gold.jsonl"), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n_items"] == 14 and metrics["n_gold"] == 3
    assert metrics["bcubed"]["f1"] >= 0.9


def test_stdin(tmp_path: Path, examples_dir: Path) -> None:
    lines = (examples_dir / "news.jsonl").read_text("utf-8").splitlines()[:4]
    out = tmp_path / "a.jsonl"
    result = invoke(
        ["cluster", "-", "--db", str(tmp_path / "s.db"), "--out", str(out), "-q"],
        input="\n".join(lines) + "\n",
    )
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["n01", "n02", "n03", "n04"]
    assert all(set(r) == OUT_KEYS for r in rows)


def test_exit_code_3_when_inputs_were_skipped(tmp_path: Path, examples_dir: Path) -> None:
    lines = (examples_dir / "news.jsonl").read_text("utf-8").splitlines()[:3]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], '{"id": "broken", "text": ', lines[1], lines[2]]) + "\n", "utf-8")
    out = tmp_path / "a.jsonl"
    result = invoke(["cluster", str(bad), "--db", str(tmp_path / "s.db"), "--out", str(out), "-q"])
    assert result.exit_code == 3, result.stderr
    assert f"{bad}:2" in result.stderr  # the skipped line is named
    assert "Traceback" not in result.stderr
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["n01", "n02", "n03"]  # the run still completed


@pytest.mark.parametrize("command", ["cluster", "ingest"])
def test_error_missing_input(tmp_path: Path, command: str) -> None:
    result = invoke([command, str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "s.db")])
    assert "nope.jsonl" in one_error_line(result)


def test_error_missing_eval_input(tmp_path: Path, examples_dir: Path) -> None:
    result = invoke(["eval", str(tmp_path / "nope.jsonl"), str(examples_dir / "news.gold.jsonl")])
    assert "nope.jsonl" in one_error_line(result)


def test_error_unknown_event(clustered) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = clustered
    assert "ev-doesnotexist" in one_error_line(invoke(["show", "ev-doesnotexist", "--db", str(db)]))


def test_error_unknown_story(clustered) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = clustered
    assert "st-doesnotexist" in one_error_line(invoke(["story", "st-doesnotexist", "--db", str(db)]))


@pytest.mark.parametrize("command", ["events", "stories", "export", "show ev-x", "story st-x"])
def test_error_missing_db(tmp_path: Path, command: str) -> None:
    result = invoke([*command.split(), "--db", str(tmp_path / "missing.db")])
    assert "missing.db" in one_error_line(result)
    assert not (tmp_path / "missing.db").exists()  # reading never creates a store


def test_cli_has_the_documented_commands() -> None:
    expected = {"cluster", "ingest", "events", "show", "export", "stories", "story", "eval"}
    assert expected <= set(main.commands)
    assert all(isinstance(c, click.Command) for c in main.commands.values())


def test_similarity_on_the_example_pairs(examples_dir: Path) -> None:
    result = invoke(["similarity", "--pairs", str(examples_dir / "pairs.jsonl")])
    assert result.exit_code == 0, result.stderr
    scores = {r["pair_id"]: r["score"] for r in map(json.loads, result.stdout.splitlines())}
    assert set(scores) == {"morocco-en-fr", "turkey-vs-morocco", "quake-vs-moon"}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert scores["morocco-en-fr"] > 0.5 > scores["quake-vs-moon"]


def test_commands_share_the_db_option() -> None:
    """Commands over a store take the same ``--db``; ``eval``'s is a scratch store."""
    import click

    commands = {
        f"{n} {sub}" if sub else n: cmd
        for n, c in main.commands.items()
        for sub, cmd in (c.commands.items() if isinstance(c, click.Group) else [("", c)])
    }  # a group's (``follow``) subcommands each take --db
    dbs = {n: p for n, c in commands.items() for p in c.params if p.name == "db"}
    assert set(commands) - set(dbs) == {"similarity"}  # pairs in, scores out: no store
    for name, db in dbs.items():
        if name != "eval":
            assert (db.default, db.show_default, db.help) == ("storyline.db", True, DB_HELP), name


def test_similarity_exit_code_3_when_pairs_were_skipped(tmp_path: Path, examples_dir: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    good = (examples_dir / "pairs.jsonl").read_text("utf-8").splitlines()[0]
    pairs.write_text(good + '\n{"pair_id": "broken"\n', "utf-8")
    result = invoke(["similarity", "--pairs", str(pairs)])
    assert result.exit_code == 3, result.stderr
    assert f"storyline: skipped {pairs}:2" in result.stderr
    assert [json.loads(line)["pair_id"] for line in result.stdout.splitlines()] == ["morocco-en-fr"]


def test_serve_refuses_a_missing_store_when_read_only(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    result = invoke(["serve", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 2
    assert "no store at" in result.stderr and "missing.db" in result.stderr
    assert not (tmp_path / "missing.db").exists()
