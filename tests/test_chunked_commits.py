"""Progress that survives a kill: a run commits its decisions in chunks (every
``COMMIT_EVERY`` articles or ``COMMIT_SECONDS``), so a SIGKILL keeps every chunk committed
before it, and the next run finishes the rest with nothing lost or assigned twice.

A few thousand articles (hashing encoder, the real ``storyline ingest`` in a child process),
killed (the whole process group) at seeded random points; after each kill the store passes
``PRAGMA integrity_check`` and holds at least the assignments of the chunks the killed run
had logged as committed (``-v``: "committed the events of N articles"). The kill points follow the
run's progress (its first logged commit), so a faster machine still kills mid-run.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyline.store.sqlite import SQLiteStore

SRC = Path(__file__).resolve().parents[1] / "src"
N = int(os.environ.get("STORYLINE_KILL_N", "3000"))  # STORYLINE_KILL_N=10000 for the long check
KILLS = 3
SEED = 611
COMMITTED = re.compile(r"committed the events of (\d+) articles")


def write_articles(path: Path, n: int) -> list[str]:
    """``n`` articles in events of three (each group has words of its own)."""
    rng = random.Random(SEED)
    syll = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pa", "go", "de", "bu", "ri", "no"]
    ids = []
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            g = random.Random(i // 3)
            own = ["".join(g.choice(syll) for _ in range(3)) for _ in range(12)]
            text = "Officials in " + " ".join(rng.choice(own) for _ in range(40)) + " said on Monday."
            aid = f"a{i:05d}"
            ids.append(aid)
            fh.write(json.dumps({"id": aid, "title": " ".join(own[:5]).title(), "text": text,
                                 "lang": "en", "published": f"2024-03-1{(i // 3) % 9}"}) + "\n")
    return ids


def ingest(src: Path, db: Path, err: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "STORYLINE_ENCODER": "hashing"}
    with open(err, "wb") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "storyline", "-v", "ingest", str(src), "--db", str(db), "-q"],
            stdout=subprocess.DEVNULL, stderr=fh, env=env, start_new_session=True,
        )


def first_commit(proc: subprocess.Popen[bytes], err: Path, timeout: float = 300.0) -> float | None:
    """Seconds until the run logged its first commit; None when it ended before."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            return None
        if COMMITTED.search(err.read_text("utf-8", "replace")):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def assigned(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {r[0] for r in conn.execute("SELECT article_id FROM assignments")}


@pytest.mark.slow
def test_kill_keeps_committed_chunks(tmp_path: Path) -> None:
    src, db = tmp_path / "in.jsonl", tmp_path / "s.db"
    ids = write_articles(src, N)
    rng = random.Random(SEED)
    kept: list[tuple[int, int]] = []  # (committed by the killed run, assigned after the kill)
    landed = 0
    first: float | None = None  # seconds the last run took to log its first commit
    for attempt in range(KILLS * 3):
        if landed == KILLS:
            break
        err = tmp_path / f"err{attempt}.txt"
        before = len(assigned(db)) if db.exists() else 0
        proc = ingest(src, db, err)
        # kill points follow the run's progress, not the machine's speed: every other run
        # before its first commit (a share of the time the last run took to reach one),
        # the others within a later chunk
        if first is not None and attempt % 2 == 1:
            time.sleep(rng.uniform(0.3, 0.9) * first)
        else:
            took = first_commit(proc, err)
            if took is None:
                break  # it finished first: nothing left to kill
            first = took
            time.sleep(rng.uniform(0.0, 0.3) * took)
        if proc.poll() is not None:
            break  # it finished first: nothing left to kill
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        landed += 1
        committed = sum(int(n) for n in COMMITTED.findall(err.read_text("utf-8", "replace")))
        after = len(assigned(db))
        kept.append((committed, after))
        assert after >= before + committed, (attempt, before, committed, after)
    assert landed >= 1
    for _ in range(3):
        proc = ingest(src, db, tmp_path / "final.txt")
        if proc.wait(timeout=300) == 0:
            break
    assert proc.returncode == 0, (tmp_path / "final.txt").read_text()
    with SQLiteStore(db) as store:
        stored = [p.id for p in store.iter_articles()]
        assert sorted(stored) == ids  # every article once
        rows = list(store.iter_assignments())
        assert sorted(a.article_id for a in rows) == ids  # every one assigned once
        for a in rows:
            ev = store.get_event(a.event)
            assert ev is not None and a.article_id in ev.article_ids
        members = [m for ev in store.iter_events() for m in ev.article_ids]
        assert sorted(members) == ids  # no event lists an article twice or another's
        assert not store.get_state("unlinked")  # what the killed runs left unlinked is linked
        for ev in store.iter_events():  # every event in a live story that lists it
            story = store.get_story(store.resolve("story", ev.story or ""))
            assert story is not None and ev.id in story.event_ids, ev.id
    print("kills (committed by the killed run, assigned after):", kept)
