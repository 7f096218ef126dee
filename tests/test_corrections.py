"""Corrections last: a move, merge or split survives a rerun, an ingest of 100 more articles,
a restart and a re-clustering of the whole archive; undo restores the previous state; ids
stay stable. The model-free hashing encoder keeps these fast (the logic does not depend on
the encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline import Pipeline
from storyline.corrections import CorrectionError, Corrector
from storyline.errors import NotFound
from storyline.recluster import recluster
from storyline.represent.encoder import HashingEncoder

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "news.jsonl"


def pipeline(path: Path | str) -> Pipeline:
    return Pipeline(str(path), encoder=HashingEncoder(), second=False)


def events(p: Pipeline) -> dict[str, str]:
    return {a.article_id: a.event for a in p.store.iter_assignments()}


def groups(p: Pipeline) -> set[frozenset[str]]:
    out: dict[str, set[str]] = {}
    for aid, ev in events(p).items():
        out.setdefault(ev, set()).add(aid)
    return {frozenset(g) for g in out.values()}


@pytest.fixture()
def sample(tmp_path: Path) -> tuple[Path, Pipeline]:
    path = tmp_path / "s.db"
    p = pipeline(path)
    p.run([str(SAMPLE)])
    return path, p


def ecb_articles(shared_dir: Path, n: int = 100) -> list[dict[str, object]]:
    lines = (shared_dir / "data" / "ecbplus_dev.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines[:n]]


def test_move_survives_rerun_ingest_restart_and_recluster(sample, shared_dir: Path) -> None:
    path, p = sample
    ev = events(p)
    turkey, morocco = ev["n03"], ev["n05"]
    assert turkey != morocco
    # without a correction, re-clustering puts n03 with the Turkey quake again
    recluster(p)
    assert events(p)["n03"] == events(p)["n04"]
    c = Corrector(p).move("n03", morocco, author="ana")
    assert c.author == "ana" and c.action == "move"
    after = events(p)
    assert after["n03"] == morocco and after["n04"] == turkey
    p.run([str(SAMPLE)])  # the same input again
    assert events(p) == after
    report = p.run(ecb_articles(shared_dir))  # 100 more articles
    assert report.new == 100
    now = events(p)
    assert now["n03"] == now["n05"] != now["n04"]
    assert {a: now[a] for a in after} == after
    p.store.close()
    q = pipeline(path)  # a restart: the pins are read back from the store
    q.run([{"id": "n03-again", "text": q.store.get_article("n03").article.text + "\nRescuers kept digging.", "lang": "de"}])
    now = events(q)
    assert now["n03"] == now["n05"] != now["n04"]
    recluster(q)  # the whole archive decided again: the correction holds
    now = events(q)
    assert now["n03"] == now["n05"] != now["n04"]
    assert q.store.get_event(after["n03"]).id == now["n03"]  # old ids resolve
    q.store.close()


def test_split_and_merge_hold_and_keep_ids(sample) -> None:
    _, p = sample
    ev = events(p)
    turkey = ev["n04"]
    members = sorted(a for a, e in ev.items() if e == turkey)
    part = members[1:3]
    c = Corrector(p).split(turkey, part, author="bo")
    now = events(p)
    rest = [a for a in members if a not in part]
    oldest = min(members, key=lambda a: (p.store.get_article(a).article.published, a))
    keeps = rest if oldest in rest else part
    assert {now[a] for a in keeps} == {turkey}  # the part with the oldest member keeps the id
    new = c.data["new"]
    assert {now[a] for a in members if a not in keeps} == {new} != {turkey}
    assert p.store.get_event(new) is not None
    recluster(p)  # without the split they would come back together
    now = events(p)
    assert len({now[a] for a in part}) == 1 and not {now[a] for a in part} & {now[a] for a in rest}
    # merge the two parts back: the older id survives, the other resolves to it
    m = Corrector(p).merge(new, turkey, author="bo")
    assert m.data["winner"] == turkey
    now = events(p)
    assert {now[a] for a in members} == {turkey}
    assert p.store.get_event(new).id == turkey
    recluster(p)
    now = events(p)
    assert len({now[a] for a in members}) == 1
    assert p.store.get_event(turkey).id == now[members[0]]


def test_undo_restores_the_previous_state(sample) -> None:
    _, p = sample
    before, shape = events(p), groups(p)
    morocco = before["n05"]
    c1 = Corrector(p).move("n03", "new", author="ana")
    assert events(p)["n03"] not in set(before.values())
    with pytest.raises(CorrectionError, match="later correction"):
        c2 = Corrector(p).move("n03", morocco, author="ana")
        Corrector(p).undo(c1.id)
    Corrector(p).undo(c2.id, author="ana")
    Corrector(p).undo(c1.id, author="ana")
    assert events(p) == before and groups(p) == shape
    assert [c.active for c in p.store.corrections()] == [False, False]
    assert p.store.corrections()[0].undone_by == "ana"
    e = next(iter(p.store.iter_events()))
    m = Corrector(p).merge(e.id, morocco if e.id != morocco else before["n04"])
    Corrector(p).undo(m.id)
    assert events(p) == before
    for ev in set(before.values()):  # every id resolves to itself again
        assert p.store.get_event(ev).id == ev
    recluster(p)  # no pin left: the clusterer's own decisions, under the same ids
    assert events(p) == before


def test_bad_corrections_say_why(sample) -> None:
    _, p = sample
    ev = events(p)
    cor = Corrector(p)
    with pytest.raises(NotFound):
        cor.move("nope", "new")
    with pytest.raises(NotFound):
        cor.move("n01", "ev-nope")
    with pytest.raises(CorrectionError, match="already in"):
        cor.move("n01", ev["n01"])
    with pytest.raises(CorrectionError, match="same event"):
        cor.merge(ev["n01"], ev["n01"])
    with pytest.raises(CorrectionError, match="not in event"):
        cor.split(ev["n01"], ["n05"])
    with pytest.raises(CorrectionError, match="not none or all"):
        cor.split(ev["n01"], [a for a, e in ev.items() if e == ev["n01"]])
    with pytest.raises(NotFound):
        cor.undo("c-nope")
    assert p.store.corrections() == []
    assert events(p) == ev


def test_corrections_on_postgres() -> None:
    """The same constraints through the Postgres store (its migration adds the tables)."""
    import os

    from conftest_postgres import postgres_url  # env URL, a session pgserver, or skip

    from storyline.store import open_store

    store = open_store(postgres_url(os.environ))
    store.reset()  # type: ignore[attr-defined]
    try:
        p = Pipeline(store, encoder=HashingEncoder(), second=False)
        p.run([str(SAMPLE)])
        before = events(p)
        c = Corrector(p).move("n03", before["n05"], author="pg")
        q = Pipeline(store, encoder=HashingEncoder(), second=False)  # a restart
        recluster(q)
        now = events(q)
        assert now["n03"] == now["n05"] != now["n04"]
        assert [x.author for x in store.corrections()] == ["pg"]
        Corrector(q).undo(c.id)
        assert events(q) == before
    finally:
        store.reset()  # type: ignore[attr-defined]
        store.close()
