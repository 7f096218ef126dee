"""The JSON API in-process (httpx.ASGITransport): every route, auth, limits, one error
envelope for every error. A hashing encoder keeps it fast; quality is not tested here."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from storyline.http.app import create_app
from storyline.model import Article, Merge
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token"
QUAKE = (
    "A strong earthquake of magnitude 7.1 struck central Chile on Monday, killing 12 people "
    "and destroying hundreds of homes near the city of Talca, officials said."
)
ARTICLES = [
    Article("q1", QUAKE, title="Earthquake kills 12 in Chile", lang="en",
            published=dt.date(2024, 3, 4), source="Wire", url="https://example.org/q1"),
    Article("q2", QUAKE + " Rescue teams searched the rubble.", title="Chile quake toll rises",
            lang="en", published=dt.date(2024, 3, 5), source="Daily"),
    Article("x1", "Les ministres européens se sont réunis à Bruxelles pour parler du budget "
            "agricole et des aides aux agriculteurs.", title="<script>alert(1)</script> Budget",
            lang="fr", published=dt.date(2023, 1, 10), url="javascript:alert(2)"),
]  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_pipeline() -> Pipeline:
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    pipe.run(ARTICLES)
    return pipe


@pytest.fixture
def pipe() -> Pipeline:
    return make_pipeline()


def client_for(
    app: Any, host: str = "testclient", base_url: str = "http://testserver"
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 5555))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@pytest.fixture
async def client(pipe: Pipeline) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(pipe, token=TOKEN)) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def event_of(pipe: Pipeline, article_id: str) -> str:
    a = pipe.store.get_assignment(article_id)
    assert a is not None
    return a.event


# -- reads ---------------------------------------------------------------------------------
async def test_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "articles": 3, "writes": "token"}


async def test_events_list_and_filters(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    body = (await client.get("/api/events")).json()
    assert body["total"] == len(list(pipe.store.iter_events()))
    assert body["items"][0]["date"] >= body["items"][-1]["date"]  # newest first
    quake = event_of(pipe, "q1")
    assert (await client.get("/api/events", params={"lang": "fr"})).json()["total"] == 1
    ids = [e["id"] for e in (await client.get("/api/events?from=2024-01-01")).json()["items"]]
    assert quake in ids and event_of(pipe, "x1") not in ids
    ids = [e["id"] for e in (await client.get("/api/events?to=2023-12-31")).json()["items"]]
    assert ids == [event_of(pipe, "x1")]
    found = (await client.get("/api/events", params={"q": "chile"})).json()["items"]
    assert [e["id"] for e in found] == [quake]
    paged = (await client.get("/api/events?limit=1&offset=1")).json()
    assert paged["limit"] == 1 and paged["offset"] == 1 and len(paged["items"]) <= 1


async def test_event_detail_and_merged_redirect(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    quake = event_of(pipe, "q1")
    rec = (await client.get(f"/api/events/{quake}")).json()
    assert rec["id"] == quake and rec["size"] == 2 and rec["languages"] == {"en": 2}
    assert {a["id"] for f in rec["families"] for a in f["articles"]} == {"q1", "q2"}
    pipe.store.record_merge(Merge("event", "ev-gone", quake, 0.9, "2024-01-01T00:00:00"))
    r = await client.get("/api/events/ev-gone?x=1")
    assert r.status_code == 308
    assert r.headers["location"] == f"/api/events/{quake}?x=1"  # relative: no Host reflected
    assert (await client.get("/api/events/ev-gone", follow_redirects=True)).json()["id"] == quake


async def test_stories(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    body = (await client.get("/api/stories")).json()
    assert body["total"] == len(list(pipe.store.iter_stories())) >= 2
    first = body["items"][0]
    assert first["events"] and first["end"] == "2024-03-04" or first["end"] >= "2024"
    story = (await client.get(f"/api/stories/{first['id']}")).json()
    assert story["id"] == first["id"] and story["events"][0]["headline"]
    pipe.store.record_merge(Merge("story", "st-gone", first["id"], 1.0, "2024-01-01T00:00:00"))
    r = await client.get("/api/stories/st-gone")
    assert r.status_code == 308 and r.headers["location"].endswith(f"/api/stories/{first['id']}")


async def test_article_and_search(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    rec = (await client.get("/api/articles/q1")).json()
    assert rec["title"] == "Earthquake kills 12 in Chile" and rec["event"] == event_of(pipe, "q1")
    assert rec["text"].startswith("A strong earthquake")
    found = (await client.get("/api/search", params={"q": "Chile"})).json()
    assert found["query"] == "Chile" and [e["id"] for e in found["events"]] == [
        event_of(pipe, "q1")
    ]


async def test_openapi_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/articles", "/api/events", "/api/events/{event_id}", "/api/stories",
            "/api/stories/{story_id}", "/api/articles/{article_id}", "/api/search"} <= set(spec["paths"])  # fmt: skip
    assert "/events/{event_id}" not in spec["paths"]  # pages stay out of the API schema
    assert (await client.get("/docs")).status_code == 200


# -- writes --------------------------------------------------------------------------------
async def test_post_one_and_many(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    one = {"id": "q3", "title": "Chile earthquake: rescue goes on", "text": QUAKE, "lang": "en",
           "published": "2024-03-05", "source": "Radio", "url": "https://example.org/q3"}  # fmt: skip
    r = await client.post("/api/articles", json=one, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["new"] == 1 and body["skipped"] == []
    (a,) = body["assignments"]
    assert set(a) == {"id", "event", "story", "family", "lang", "score"} and a["id"] == "q3"
    assert pipe.store.has_article("q3")
    many = [one, {"id": "e1", "text": "   "}, {"id": "e2", "body": "Body field works too."}]
    body = (await client.post("/api/articles", json=many, headers=AUTH)).json()
    assert body["known"] == 1 and body["new"] == 1
    assert [a["id"] for a in body["assignments"]] == ["q3", "e2"]
    assert body["skipped"] == [{"origin": "request:1", "reason": "missing or empty text"}]


async def test_writes_are_serialized(pipe: Pipeline) -> None:
    import anyio

    app = create_app(pipe, token=TOKEN)
    async with client_for(app) as c:

        async def post(n: int) -> None:
            r = await c.post("/api/articles", headers=AUTH,
                             json={"id": f"p{n}", "text": f"Story number {n} about trains."})  # fmt: skip
            assert r.status_code == 200

        async with anyio.create_task_group() as tg:
            for n in range(6):
                tg.start_soon(post, n)
    assert all(pipe.store.has_article(f"p{n}") for n in range(6))


async def test_read_only_without_token(pipe: Pipeline) -> None:
    async with client_for(create_app(pipe)) as c:
        r = await c.post("/api/articles", json={"text": "x"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "writes_disabled"
        assert (await c.get("/api/health")).json()["writes"] == "disabled"


async def test_no_auth_is_loopback_only(pipe: Pipeline) -> None:
    app = create_app(pipe, allow_no_auth=True)
    doc = {"id": "n1", "text": "Local write without a token."}
    async with client_for(app, host="127.0.0.1", base_url="http://localhost:8000") as c:
        assert (await c.post("/api/articles", json=doc)).status_code == 200
        evil = {"Host": "evil.example:8000"}  # DNS rebinding: loopback peer, foreign Host
        assert (await c.post("/api/articles", json=doc, headers=evil)).status_code == 403
        # a cross-site form can only send text/plain: it is not read as JSON
        form = {"content": b'{"id": "n2", "text": "x"}', "headers": {"Content-Type": "text/plain"}}
        assert (await c.post("/api/articles", **form)).status_code == 422  # type: ignore[arg-type]
        assert not pipe.store.has_article("n2")
    async with client_for(app, host="192.168.1.20", base_url="http://127.0.0.1:8000") as c:
        r = await c.post("/api/articles", json=doc)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


async def test_app_over_a_store_url(tmp_path: Any) -> None:
    db = tmp_path / "s.db"
    pipe = Pipeline(str(db), encoder=HashingEncoder(), second=False)
    pipe.run(ARTICLES)
    pipe.store.close()
    app = create_app(str(db))  # read-only: opens the store at startup, no pipeline
    async with app.router.lifespan_context(app), client_for(app) as c:
        assert (await c.get("/api/health")).json()["articles"] == 3


# -- one error envelope for every error -----------------------------------------------------
BIG = {"text": "x" * (5 * 1024 * 1024 + 10)}
# fmt: off
ERRORS = [
    ("GET", "/nowhere", {}, 404, "not_found"),
    ("GET", "/api/nowhere", {}, 404, "not_found"),
    ("GET", "/api/events/ev-nope", {}, 404, "not_found"),
    ("GET", "/api/stories/st-nope", {}, 404, "not_found"),
    ("GET", "/api/articles/nope", {}, 404, "not_found"),
    ("GET", "/events/ev-nope", {}, 404, "not_found"),
    ("GET", "/stories/st-nope", {}, 404, "not_found"),
    ("GET", "/articles/nope", {}, 404, "not_found"),
    ("GET", "/static/nope.css", {}, 404, "not_found"),
    ("DELETE", "/api/events", {}, 405, "method_not_allowed"),
    ("PUT", "/api/articles", {}, 405, "method_not_allowed"),
    ("POST", "/", {}, 405, "method_not_allowed"),
    ("GET", "/api/events?limit=0", {}, 422, "validation_error"),
    ("GET", "/api/events?from=yesterday", {}, 422, "validation_error"),
    ("GET", "/api/stories?offset=-1", {}, 422, "validation_error"),
    ("GET", "/api/search", {}, 422, "validation_error"),
    ("GET", "/?page=0", {}, 422, "validation_error"),
    ("POST", "/api/articles", {"json": {"text": 5}, "headers": AUTH}, 422, "validation_error"),
    ("POST", "/api/articles", {"content": b"{not json", "headers": {**AUTH, "Content-Type": "application/json"}}, 422, "validation_error"),
    ("POST", "/api/articles", {"json": {"text": "x"}}, 401, "unauthorized"),
    ("POST", "/api/articles", {"json": {"text": "x"}, "headers": {"Authorization": "Basic eDp5"}}, 401, "unauthorized"),
    ("POST", "/api/articles", {"json": {"text": "x"}, "headers": {"Authorization": "Bearer wrong"}}, 403, "forbidden"),
    ("POST", "/api/articles", {"json": BIG, "headers": AUTH}, 413, "payload_too_large"),
    ("POST", "/api/articles", {"json": [{"text": "x"}] * 501, "headers": AUTH}, 413, "payload_too_large"),
    ("GET", "/api/events", {"boom": True}, 500, "internal_error"),
    ("GET", "/events/ev-x", {"boom": True}, 500, "internal_error"),
]
# fmt: on


@pytest.mark.parametrize(("method", "url", "kw", "status", "code"), ERRORS,
                         ids=[f"{m} {u[:40]} {s}" for m, u, _, s, _ in ERRORS])  # fmt: skip
async def test_error_envelope(
    method: str, url: str, kw: dict[str, Any], status: int, code: str, pipe: Pipeline
) -> None:
    kw = dict(kw)
    if kw.pop("boom", False):

        def boom(*a: Any, **k: Any) -> Any:
            raise RuntimeError("secret internals")

        pipe.store.iter_events = boom  # type: ignore[method-assign]
        pipe.store.get_event = boom  # type: ignore[method-assign]
    app = create_app(pipe, token=TOKEN)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.request(method, url, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "secret internals" not in r.text
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    if status == 405:
        assert "allow" in r.headers
