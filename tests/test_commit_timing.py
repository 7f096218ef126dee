"""Stories do not depend on when a run's commits happen.

A run commits its decisions every ``commit_every`` articles or ``commit_seconds``, whichever
comes first; where the timed commits fall depends on the machine's speed. Stories are linked at
the counted commits only, so a run gives the same (event, story, family) of every article
whether timed commits fell after every article, every few, or never. Here the pipeline's
clock is a counter (one tick per reading), so "after every article" is exact and repeatable.

The input is made for it (hashing encoder): Alvarez's event in January, Moreno's in February,
and a May event whose first article names both and the four others Moreno only. Linked when
it has its first article, the May event goes to Alvarez's story; linked grown, to Moreno's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from test_cli import invoke

import storyline.run.pipeline as pl
from storyline import Article, Pipeline
from storyline.http.app import create_app
from storyline.represent.encoder import HashingEncoder
from storyline.run.distributed import ingest
from storyline.run.write import EventWriter
from storyline.store.sqlite import SQLiteStore

SUBJECT = (
    "signed the water treaty on the river dam project with the regional council, officials "
    "said, after talks on the irrigation canal and the hydropower plant"
)
NEVER = float("inf")

Triples = dict[str, tuple[str, str, str]]


def _article(aid: str, names: list[str], day: dt.date) -> Article:
    who = " and ".join(names)
    return Article(
        aid, f"{who} {SUBJECT}. {who} said the dam would be finished next year.",
        title=f"{names[0]} signs river dam treaty", lang="en", source="Example Wire",
        published=dt.datetime.combine(day, dt.time(12)),
    )  # fmt: skip


def articles() -> list[Article]:
    jan, feb, may = dt.date(2024, 1, 10), dt.date(2024, 2, 19), dt.date(2024, 5, 9)
    return [
        *(_article(f"a{i}", ["Kazimi Alvarez"], jan) for i in range(3)),
        *(_article(f"b{i}", ["Lorenzo Moreno"], feb) for i in range(3)),
        _article("c0", ["Kazimi Alvarez", "Lorenzo Moreno"], may),
        *(_article(f"c{i}", ["Lorenzo Moreno"], may) for i in range(1, 5)),
    ]


def tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline's clock (only its own: other modules and threads keep the real one) moves
    one second at every reading."""
    clock = itertools.count()
    monkeypatch.setattr(pl, "time", SimpleNamespace(monotonic=lambda: float(next(clock))))


def run(
    monkeypatch: pytest.MonkeyPatch, db: str, ticks: float, commit_every: int = 1000
) -> tuple[Triples, int]:
    """The run's triples and how many commits it made; a timed commit after every ``ticks``
    articles (the clock is read once per article, and once more after each commit)."""
    tick(monkeypatch)
    commits = 0
    commit = EventWriter.write

    def counted(self: EventWriter, *args: object, **kwargs: object) -> None:
        nonlocal commits
        commits += 1
        commit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EventWriter, "write", counted)
    try:
        pipe = Pipeline(db, encoder=HashingEncoder(), second=False, offload=False,
                        commit_every=commit_every, commit_seconds=ticks)  # fmt: skip
        report = pipe.run(articles())
    finally:
        monkeypatch.undo()
    pipe.store.close()
    return {a.article_id: (a.event, a.story, a.family) for a in report.assignments}, commits


def stories_of(triples: Triples) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for aid, (_, story, _) in triples.items():
        groups.setdefault(story, set()).add(aid[0])  # the event's letter
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("commit_every", [1000, 4])
def test_timed_commits_do_not_change_the_stories(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, commit_every: int
) -> None:
    untimed, n_untimed = run(monkeypatch, str(tmp_path / "0.db"), NEVER, commit_every)
    assert n_untimed == len(range(commit_every, len(articles()), commit_every)) + 1
    assert stories_of(untimed) == {frozenset("a"), frozenset("bc")}  # May continues Moreno's story
    for ticks in (1, 2, 3):
        timed, n_timed = run(monkeypatch, str(tmp_path / f"{ticks}.db"), ticks, commit_every)
        assert n_timed > n_untimed  # the timed commits did happen, at other articles
        assert timed == untimed, ticks


def test_a_run_stopped_between_counted_commits_is_readable_and_finished_by_the_next(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Events stored by timed commits wait for their story; a run that stops before its next
    counted commit leaves them readable (pages, JSON, why), and the next run links them as
    the stopped run would have."""
    untimed, _ = run(monkeypatch, str(tmp_path / "whole.db"), NEVER)
    db = tmp_path / "stopped.db"

    def stop(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stopped before the counted commit")

    monkeypatch.setattr(EventWriter, "_link_all", stop)
    with pytest.raises(RuntimeError, match="stopped before"):
        run(monkeypatch, str(db), 1)  # (run() undoes the patches)

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT article_id, story FROM assignments").fetchall()
    # every article but the last committed (by a timed commit), none linked to a story yet
    assert len(rows) == len(articles()) - 1 and {story for _, story in rows} == {""}
    with SQLiteStore(db) as store:
        events = list(store.iter_events())
        assert events and all(ev.story is None for ev in events)
        assert not list(store.iter_stories())
        paths = ["/", "/api/events", "/api/stories", "/feeds/events.atom", "/articles/c0/why"]
        paths += ["/api/articles/c0", *(f"/events/{ev.id}" for ev in events)]
        paths += [f"/api/events/{ev.id}" for ev in events]

        async def get_all() -> list[tuple[str, int]]:
            transport = httpx.ASGITransport(app=create_app(store))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                answers = [(p, await c.get(p, headers={"Accept": "text/html"})) for p in paths]
                return [(p, r.status_code) for p, r in answers]

        answers = asyncio.run(get_all())
        assert all(code == 200 for _, code in answers), answers
    shown = invoke(["show", events[0].id, "--db", str(db)])
    assert shown.exit_code == 0 and "story: not linked yet" in shown.stdout
    why = invoke(["why", "c0", "--db", str(db)])
    assert why.exit_code == 0 and "(story not linked yet" in why.stdout, why.stdout

    # the next run (a new process: nothing new to assign) links what waits
    pipe = Pipeline(str(db), encoder=HashingEncoder(), second=False, offload=False)
    assert pipe.writer.pending()
    report = pipe.run(articles())
    assert report.new == 0 and not pipe.writer.pending()
    assert {a.article_id: (a.event, a.story, a.family) for a in report.assignments} == untimed
    for ev in pipe.store.iter_events():
        story = pipe.store.get_story(ev.story or "")
        assert story is not None and ev.id in story.event_ids
        assert pipe.linker.story_of_[ev.id] == ev.story
    pipe.store.close()


def test_assign_after_distributed_ingest_links_as_one_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``Pipeline.assign`` (after ingest workers stored the articles) runs the same commits:
    with a timed commit after every article, the stories of one untimed run."""
    untimed, _ = run(monkeypatch, str(tmp_path / "whole.db"), NEVER)
    pipe = Pipeline(str(tmp_path / "assign.db"), encoder=HashingEncoder(), second=False,
                    offload=False, commit_seconds=1)  # fmt: skip
    stored = ingest(pipe, articles(), workers=1, backend="process")
    assert not list(pipe.store.iter_assignments())
    tick(monkeypatch)
    report = pipe.assign(stored.order)
    assert {a.article_id: (a.event, a.story, a.family) for a in report.assignments} == untimed
    pipe.store.close()
