"""Crash safety: ``storyline cluster`` and ``storyline ingest`` killed with SIGKILL at random
points, then run again until they finish, lose nothing and change no decision silently.

Sixty articles in ten files. Attempt ``k`` runs the command over the first ``k`` files (so
every attempt has new articles to store and assign) and SIGKILLs it after a random delay
(seeded), until five kills have landed on a running command; a run that finishes before its
kill time lowers the upper bound of later delays to its duration. After each attempt the
database must pass ``PRAGMA integrity_check`` and the assignments it shows are recorded. Then
the command runs over all ten files until it exits 0, and:

* every input article is stored exactly once, and has an assignment;
* every assignment points at a live event that lists the article, and every event lists only
  articles assigned to it;
* an article assigned before a kill keeps its event, unless that event was merged into
  another one (and the merge is in the log): ``store.resolve("event", old) == new``;
* ``cluster --out`` lists every article once.

The real command (multilingual USE encoder) runs each time: ~2-4 s per run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storyline.store.sqlite import SQLiteStore

STORYLINE = str(Path(sys.executable).with_name("storyline"))
SEED = 20240611
KILLS = 5
N_FILES, PER_FILE = 10, 6
DELAY = (0.5, 4.0)  # seconds after the start; the whole run takes ~2-4 s here

TOPICS = [
    ("earthquake", "2024-03-0{d}", (
        "A magnitude {m} earthquake struck near Talca in central Chile on {day}, killing {n} "
        "people and destroying hundreds of homes, officials said. Rescue teams searched the "
        "rubble through the night.")),
    ("election", "2022-10-2{d}", (
        "Voters in Brazil went to the polls on {day} in a tight presidential run-off; {n} "
        "million people voted, and the electoral court said the count would end by midnight.")),
    ("floods", "2021-07-1{d}", (
        "The Rhine burst its banks in Cologne on {day} after {n} days of heavy rain, flooding "
        "the old town; firefighters evacuated residents by boat.")),
    ("summit", "2023-05-2{d}", (
        "Leaders of the G7 met in Hiroshima on {day} and agreed on new sanctions; the summit "
        "statement named {n} measures on energy and finance.")),
    ("strike", "2023-03-0{d}", (
        "Rail workers in France walked out on {day}; {n} percent of high-speed trains were "
        "cancelled and the unions called another strike for next week.")),
    ("wildfire", "2019-12-1{d}", (
        "A wildfire near Sydney forced {n} families from their homes on {day}; strong winds "
        "pushed the flames towards the Blue Mountains, the fire service said.")),
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def write_inputs(folder: Path, n_files: int = N_FILES, per_file: int = PER_FILE) -> list[Path]:
    """``n_files`` JSONL files of ``per_file`` articles each, topics interleaved."""
    rng = random.Random(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    n = 0
    for f in range(n_files):
        path = folder / f"part{f}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for _ in range(per_file):
                topic, date, template = TOPICS[n % len(TOPICS)]
                d = rng.randint(1, 5)
                text = template.format(
                    m=round(rng.uniform(5, 8), 1), day=DAYS[d - 1], n=rng.randint(2, 90)
                )
                row = {"id": f"{topic}-{n:03d}", "title": f"{topic.title()} report {n}",
                       "text": text, "lang": "en", "published": date.format(d=d),
                       "source": rng.choice(["Wire", "Daily", "Radio"])}  # fmt: skip
                fh.write(json.dumps(row) + "\n")
                n += 1
        paths.append(path)
    return paths


def all_ids(paths: list[Path]) -> list[str]:
    return [json.loads(line)["id"] for p in paths for line in p.read_text("utf-8").splitlines()]


def read_db(db: Path) -> tuple[str, int, dict[str, str]]:
    """(integrity_check, number of article rows, article → event) straight from SQLite."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "articles" not in tables or "assignments" not in tables:
            return check, 0, {}
        rows = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        assigned = dict(conn.execute("SELECT article_id, event FROM assignments").fetchall())
        return check, rows, assigned
    finally:
        conn.close()


@dataclass
class Tally:
    kills: int = 0  # SIGKILLs delivered to a running command
    finished_first: int = 0  # runs that finished before their kill time
    mid_write: int = 0  # kills that left stored articles without an assignment
    snapshots: list[dict[str, str]] = field(default_factory=list)
    reruns: int = 0


def run(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)


def kill_and_rerun(command: str, tmp_path: Path, rng: random.Random) -> tuple[Path, list[Path], Tally, Path]:  # fmt: skip
    paths = write_inputs(tmp_path / "in")
    db = tmp_path / "s.db"
    out = tmp_path / "out.jsonl"
    extra = ["--out", str(out)] if command == "cluster" else []
    tally = Tally()
    low, high = DELAY
    for k in range(1, len(paths) + 1):
        if tally.kills == KILLS:
            break
        cmd = [STORYLINE, command, *map(str, paths[:k]), "--db", str(db), "-q", *extra]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        delay = rng.uniform(low, high)
        try:
            proc.wait(timeout=delay)
            tally.finished_first += 1
            high = max(low + 0.1, min(high, time.perf_counter() - started))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            tally.kills += 1
        proc.stderr.close()  # type: ignore[union-attr]
        if not db.exists():
            continue
        check, rows, assigned = read_db(db)
        assert check == "ok", f"kill {k}: integrity_check says {check}"
        if rows > len(assigned):
            tally.mid_write += 1
        tally.snapshots.append(assigned)
    final = [STORYLINE, command, *map(str, paths), "--db", str(db), "-q", *extra]
    for _ in range(3):
        tally.reruns += 1
        done = run(final)
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stderr[-2000:]
    return db, paths, tally, out


def check_store(db: Path, ids: list[str], tally: Tally) -> dict[str, int]:
    check, rows, _ = read_db(db)
    assert check == "ok"
    conn = sqlite3.connect(db)
    dup = conn.execute(
        "SELECT id, COUNT(*) FROM articles GROUP BY id HAVING COUNT(*) > 1"
    ).fetchall()
    conn.close()
    store = SQLiteStore(db)
    try:
        stored = [p.id for p in store.iter_articles()]
        lost = sorted(set(ids) - set(stored))
        assert not dup and len(stored) == len(set(stored)) == rows, dup
        assert not lost, f"lost articles: {lost}"
        assert set(stored) == set(ids)
        members: dict[str, set[str]] = {}
        for ev in store.iter_events():
            members[ev.id] = set(ev.article_ids)
        unassigned = []
        for aid in ids:
            a = store.get_assignment(aid)
            if a is None:
                unassigned.append(aid)
                continue
            ev = store.get_event(a.event)
            assert ev is not None, f"{aid} points at a missing event {a.event}"
            assert ev.id == a.event, f"{aid} points at merged event {a.event} (now {ev.id})"
            assert aid in ev.article_ids, f"{aid} is not among the articles of {ev.id}"
        assert not unassigned, f"stored but never assigned: {unassigned}"
        listed = [aid for m in members.values() for aid in m]
        assert sorted(listed) == sorted(ids), "an event lists an article twice or a stranger"
        # decisions seen after a kill stand, or moved through a logged merge
        final = {aid: store.get_assignment(aid).event for aid in ids}  # type: ignore[union-attr]
        moved = 0
        for snap in tally.snapshots:
            for aid, old in snap.items():
                if old != final[aid]:
                    assert store.resolve("event", old) == final[aid], (
                        f"{aid} moved from {old} to {final[aid]} without a logged merge"
                    )
                    moved += 1
        return {"articles": len(stored), "lost": len(lost), "duplicates": len(dup),
                "events": len(members), "moved_by_merge": moved}  # fmt: skip
    finally:
        store.close()


@pytest.mark.parametrize("command", ["ingest", "cluster"])
def test_sigkill_at_random_points_loses_nothing(command: str, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-{command}")
    started = time.perf_counter()
    db, paths, tally, out = kill_and_rerun(command, tmp_path, rng)
    ids = all_ids(paths)
    assert len(ids) == N_FILES * PER_FILE == 60
    figures = check_store(db, ids, tally)
    if command == "cluster":
        rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
        assert [r["id"] for r in rows] == ids  # the last, complete run wrote every article once
    # the kills really landed on running commands, some between storing and assigning
    assert tally.kills >= 3, tally
    again = run([STORYLINE, "ingest", *map(str, paths), "--db", str(db), "-q"])
    assert again.returncode == 0 and "0 new, 60 already stored" in again.stderr
    print(
        f"\n{command}: {tally.kills} kills ({tally.mid_write} between storing and assigning, "
        f"{tally.finished_first} runs finished first), {tally.reruns} re-run(s); {figures}; "
        f"{time.perf_counter() - started:.1f}s"
    )


def test_a_run_stopped_after_storing_is_completed_by_the_next(tmp_path: Path) -> None:
    """Deterministic twin of the kills above: the run dies after storing its articles and
    before assigning them; the next run (another process) assigns them."""
    from storyline.represent.encoder import HashingEncoder
    from storyline.run.pipeline import Pipeline

    paths = write_inputs(tmp_path / "in", n_files=2)
    db = tmp_path / "s.db"
    pipe = Pipeline(db, encoder=HashingEncoder(), second=False)
    pipe.run([str(paths[0])])

    def die(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process is stopped between the two transactions

    pipe.writer.write = die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        pipe.run([str(paths[1])])
    pipe.store.close()
    check, rows, assigned = read_db(db)
    assert check == "ok" and rows == 12 and len(assigned) == 6
    again = Pipeline(db, encoder=HashingEncoder(), second=False)
    report = again.run([str(p) for p in paths])
    assert (report.new, report.known) == (0, 12)
    assert len(report.assignments) == 12
    for a in report.assignments:
        ev = again.store.get_event(a.event)
        assert ev is not None and a.article_id in ev.article_ids
