"""Follow and alert (saved searches, `follow news`, --notify), the Atom feeds (valid for
feedparser, listing new events), and the HTTP routes of `why` and of corrections (writes
refused without a token)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from storyline import Pipeline
from storyline.cli import main
from storyline.follow import Follow, add, matches, news, notify, parse_since
from storyline.http.app import create_app

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "news.jsonl"
pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pipe(encoder) -> Pipeline:  # type: ignore[no-untyped-def]
    # the sentence encoder (cached per text for the session): the Moroccan reports in four
    # languages are one event by what they say, which the hashing encoder cannot see across
    # languages
    p = Pipeline(":memory:", encoder=encoder, second=False)
    p.run([r for r in records() if r["id"] not in {"n05", "n06", "n07", "n08", "n09"}])  # no Morocco yet
    return p


@pytest.fixture
async def client(pipe: Pipeline) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(pipe, token=TOKEN), client=("testclient", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def test_follow_news_reports_new_events_and_new_articles(pipe: Pipeline, tmp_path: Path) -> None:
    store = pipe.store
    quake = add(store, Follow.make("earthquake Morocco"))
    turkey_ev = store.get_assignment("n01").event
    like = add(store, Follow.make(turkey_ev, kind="event"))
    moon = add(store, Follow.make("country:IN", kind="entity", lang=["fr"]))
    assert turkey_ev in [e.id for e in matches(store, like)]
    time.sleep(0.01)
    since = parse_since(dt.datetime.now(dt.UTC).isoformat())
    pipe.run([r for r in records() if r["id"] in {"n05", "n06", "n07", "n08", "n09"}])
    pipe.run([{"id": "n01-more", "title": "Turkey earthquake: rescuers pull survivors from rubble",
               "text": "Rescuers in Kahramanmaras pulled survivors from the rubble on Tuesday as the "
                       "death toll of the magnitude 7.8 earthquake in Turkey and Syria rose.",
               "lang": "en", "published": "2023-02-07"}])  # fmt: skip
    found = news(store, since)
    by = {(m.follow.id, m.kind): m for m in found}
    morocco = store.get_assignment("n05").event
    assert by[(quake.id, "new event")].event.id == morocco
    assert sorted(by[(quake.id, "new event")].articles) == ["n05", "n06", "n07", "n08", "n09"]
    assert store.get_assignment("n01-more").event == turkey_ev
    assert by[(like.id, "new articles")].articles == ["n01-more"]
    assert (like.id, "new event") not in by
    assert not any(m.follow.id == moon.id for m in found)  # nothing new about the Moon
    assert news(store, parse_since("2999-01-01")) == []
    # the hook: one run per match, its JSON on stdin
    out = tmp_path / "got.jsonl"
    hook = f"{sys.executable} -c \"import sys; open({str(out)!r}, 'a').write(sys.stdin.read() + chr(10))\""
    assert notify(hook, found) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == len(found) and {g["event"] for g in got} >= {morocco}
    assert notify(f"{sys.executable} -c 'raise SystemExit(1)'", found[:1]) == 1


def test_follow_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLINE_ENCODER", "hashing")
    db = str(tmp_path / "x.db")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(SAMPLE), "--db", db, "-q"]).exit_code == 0
    r = runner.invoke(main, ["follow", "add", "Chandrayaan", "--lang", "de", "--db", db])
    assert r.exit_code == 0 and r.output.startswith("f-")
    fid = r.output.split()[0]
    r = runner.invoke(main, ["follow", "news", "--since", "1h", "--json", "--db", db])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]
    assert len(lines) == 1 and lines[0]["follow"] == fid and lines[0]["kind"] == "new event"
    r = runner.invoke(main, ["follow", "news", "--json", "--db", db])  # since the last report
    assert [x for x in r.output.splitlines() if x.startswith("{")] == []
    assert runner.invoke(main, ["follow", "news", "--since", "yesterday-ish", "--db", db]).exit_code == 2
    assert runner.invoke(main, ["follow", "add", "  ", "--db", db]).exit_code == 2
    assert runner.invoke(main, ["follow", "add", "ev-nope", "--event", "--db", db]).exit_code == 4
    assert fid in runner.invoke(main, ["follow", "list", "--db", db]).output
    assert runner.invoke(main, ["follow", "remove", fid, "--db", db]).exit_code == 0
    assert runner.invoke(main, ["follow", "remove", fid, "--db", db]).exit_code == 4


async def test_atom_feeds_validate_and_list_new_events(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    feedparser = pytest.importorskip("feedparser")
    store = pipe.store
    f = add(store, Follow.make("earthquake"))
    before = feedparser.parse((await client.get(f"/feeds/follows/{f.id}.atom")).text)
    assert before.bozo == 0, before.get("bozo_exception")
    known = {e.id for e in before.entries}
    pipe.run([r for r in records() if r["id"] in {"n05", "n06", "n07", "n08", "n09"}])
    morocco = store.get_assignment("n05").event
    r = await client.get(f"/feeds/follows/{f.id}.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    after = feedparser.parse(r.text)
    assert after.bozo == 0, after.get("bozo_exception")
    new = [e for e in after.entries if e.id not in known]
    assert [e.link for e in new] == [f"/events/{morocco}"]
    for url in ["/feeds/events.atom", f"/feeds/events/{morocco}.atom", *(f"/feeds/stories/{s.id}.atom" for s in store.iter_stories())]:
        r = await client.get(url)
        parsed = feedparser.parse(r.text)
        assert r.status_code == 200 and parsed.bozo == 0, (url, parsed.get("bozo_exception"))
        assert parsed.entries, url
    assert any(e.link == f"/events/{morocco}" for e in feedparser.parse((await client.get("/feeds/events.atom")).text).entries)
    assert len(feedparser.parse((await client.get(f"/feeds/events/{morocco}.atom")).text).entries) == 5
    assert (await client.get("/feeds/events/ev-nope.atom")).status_code == 404
    assert (await client.get("/feeds/follows/f-nope.atom")).status_code == 404


async def test_why_and_corrections_over_http(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    r = await client.get("/api/articles/n03/why")
    assert r.status_code == 200
    why = r.json()
    assert why["decision"]["score"] == pipe.store.get_assignment("n03").score
    assert (await client.get("/api/articles/n03")).status_code == 200  # the article route still answers
    assert (await client.get("/api/articles/nope/why")).status_code == 404
    r = await client.get("/api/why", params={"a": "n01", "b": "n02"})
    assert r.status_code == 200 and "probability" in r.json()
    before = pipe.store.get_assignment("n03").event
    # writes need the token
    for url, body in [("/api/articles/n03/move", {"to": "new"}), (f"/api/events/{before}/split", {"articles": ["n03"]}),
                      (f"/api/events/{before}/merge", {"other": before}), ("/api/corrections/c-x/undo", {})]:  # fmt: skip
        r = await client.post(url, json=body)
        assert r.status_code == 401, url
        r = await client.post(url, json=body, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 403, url
    assert pipe.store.corrections() == [] and pipe.store.get_assignment("n03").event == before
    r = await client.post("/api/articles/n03/move", json={"to": "new", "author": "ana"}, headers=AUTH)
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["author"] == "ana" and pipe.store.get_assignment("n03").event == c["to"] != before
    assert (await client.get("/api/corrections")).json()["total"] == 1
    r = await client.post(f"/api/events/{before}/merge", json={"other": before}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_correction"
    r = await client.post(f"/api/corrections/{c['id']}/undo", headers=AUTH)
    assert r.status_code == 200 and r.json()["undone_by"] == "api"
    assert pipe.store.get_assignment("n03").event == before


async def test_pages_show_why_and_correction_buttons(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    r = await client.get("/articles/n03/why")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    score = pipe.store.get_assignment("n03").score
    assert "Why is this article in its event?" in r.text and f"{score:.3f}" in r.text
    assert "Shared names" in r.text and "Best-aligned sentences" in r.text
    r = await client.get("/articles/n03")
    assert r.status_code == 200 and "Why this event?" in r.text and "/articles/n03/why" in r.text
    ev = pipe.store.get_assignment("n03").event
    r = await client.get(f"/events/{ev}")
    assert r.status_code == 200 and "Correct this event" in r.text and 'data-action="move"' in r.text
    assert (await client.get("/static/correct.js")).status_code == 200
    assert (await client.get("/articles/nope/why")).status_code == 404


def test_a_run_says_when_saved_searches_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLINE_ENCODER", "hashing")
    db = str(tmp_path / "x.db")
    rows = records()
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    moon = [r for r in rows if "Chandrayaan" in r.get("text", "") + r.get("title", "")]
    rest = [r for r in rows if r not in moon]
    first.write_text("".join(json.dumps(r) + "\n" for r in rest), "utf-8")
    second.write_text("".join(json.dumps(r) + "\n" for r in moon), "utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["ingest", str(first), "--db", db, "-q"])
    assert r.exit_code == 0 and "saved-search" not in r.output  # nothing followed yet
    assert runner.invoke(main, ["follow", "add", "Chandrayaan", "--db", db]).exit_code == 0
    r = runner.invoke(main, ["cluster", str(second), "--db", db, "-q"])
    assert r.exit_code == 0, r.output
    assert "saved-search match(es) in 1 event(s)" in r.output
    r = runner.invoke(main, ["ingest", str(second), "--db", db, "-q"])  # nothing new: no line
    assert r.exit_code == 0 and "saved-search" not in r.output
