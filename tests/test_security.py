"""Security of the HTTP app and ``storyline serve``: who may write, how much, no way from the
API to the file system, hostile text escaped in pages, loopback by default.

In-process (``httpx.ASGITransport``) with the hashing encoder. The error envelope of every
route and the basic 401/403/413 answers are in ``test_api.py``; here every *write* route of
the app is found and checked, bodies are streamed without a length, and the hostile inputs
come in through the API itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.http.app import create_app, is_loopback
from storyline.model import Article
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline

pytestmark = pytest.mark.anyio

TOKEN = "security-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DOC = {"id": "w1", "text": "Storm damage in Lisbon on Friday closed the port, officials said."}
PASSWD = "root:x:0:0"  # what /etc/passwd starts with, on every Unix


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_pipeline() -> Pipeline:
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    pipe.run([Article("seed", "Fishermen in Porto reported a record sardine catch on Monday.",
                      title="Sardines", lang="en", published=dt.date(2024, 6, 3))])  # fmt: skip
    return pipe


@pytest.fixture
def pipe() -> Pipeline:
    return make_pipeline()


def client_for(app: Any, host: str = "203.0.113.9") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(pipe: Pipeline) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(pipe, token=TOKEN, max_batch=3, max_body_bytes=20_000)) as c:
        yield c


def write_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the app (its own routes and its routers') that changes something."""
    from storyline.http.pages import router as pages
    from storyline.http.routes import router as api

    found = []
    for route in [*app.routes, *api.routes, *pages.routes]:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                found.append((method, route.path))
    return found


# -- who may write -------------------------------------------------------------------------
async def test_every_write_route_needs_the_token(pipe: Pipeline) -> None:
    app = create_app(pipe, token=TOKEN)
    routes = write_routes(app)
    assert ("POST", "/api/articles") in routes
    n = pipe.store.count_articles()
    async with client_for(app, host="127.0.0.1") as c:  # even from loopback
        for method, path in routes:
            url = path.replace("{", "").replace("}", "")
            for headers, status in (
                ({}, 401),
                ({"Authorization": "Bearer "}, 401),
                ({"Authorization": f"Basic {TOKEN}"}, 401),
                ({"Authorization": f"Bearer {TOKEN}x"}, 403),
                ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403),
                ({"X-Token": TOKEN}, 401),
            ):
                r = await c.request(method, url, json=DOC, headers=headers)
                assert r.status_code == status, (method, path, headers, r.text)
                assert r.json()["error"]["code"] in ("unauthorized", "forbidden")
                assert TOKEN not in r.text  # the token is never echoed
    assert pipe.store.count_articles() == n  # nothing was written
    async with client_for(app) as c:
        r = await c.post("/api/articles", json=DOC, headers=AUTH)
        assert r.status_code == 200 and r.json()["new"] == 1


async def test_read_only_and_loopback_modes_refuse_remote_writes(pipe: Pipeline) -> None:
    for app in (create_app(pipe), create_app(pipe, allow_no_auth=True)):
        async with client_for(app, host="198.51.100.7") as c:
            r = await c.post("/api/articles", json=DOC, headers=AUTH)  # a token does not help
            assert r.status_code == 403, r.text
    assert not pipe.store.has_article("w1")


# -- limits --------------------------------------------------------------------------------
async def test_batch_limit_is_exact_and_all_or_nothing(
    client: httpx.AsyncClient, pipe: Pipeline
) -> None:
    batch = [dict(DOC, id=f"b{n}", text=f"{DOC['text']} Number {n}.") for n in range(4)]
    r = await client.post("/api/articles", json=batch, headers=AUTH)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert not any(pipe.store.has_article(f"b{n}") for n in range(4))  # none of them
    r = await client.post("/api/articles", json=batch[:3], headers=AUTH)
    assert r.status_code == 200 and r.json()["new"] == 3


async def test_body_limit_holds_without_a_content_length(
    client: httpx.AsyncClient, pipe: Pipeline
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # chunked upload: no Content-Length
        yield b'{"id": "big", "text": "'
        for _ in range(30):
            yield b"x" * 1000
        yield b'"}'

    r = await client.post(
        "/api/articles", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    declared = {**AUTH, "Content-Type": "application/json", "Content-Length": "999999999"}
    r = await client.post("/api/articles", content=b"{}", headers=declared)
    assert r.status_code == 413
    assert not pipe.store.has_article("big")
    r = await client.post("/api/articles", json={"id": "small", "text": "x" * 10_000}, headers=AUTH)
    assert r.status_code == 200  # under the limit


async def test_limits_apply_before_authorization_is_known(pipe: Pipeline) -> None:
    """An anonymous client cannot make the server buffer more than the body limit."""
    app = create_app(pipe, token=TOKEN, max_body_bytes=1000)
    async with client_for(app) as c:
        r = await c.post(
            "/api/articles", content=b"x" * 5000, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 413


# -- no way from the API to the file system -------------------------------------------------
TRAVERSALS = [
    "/api/articles/..%2F..%2Fetc%2Fpasswd",
    "/api/articles/../../etc/passwd",
    "/api/articles/%2Fetc%2Fpasswd",
    "/api/articles/..%252F..%252Fetc%252Fpasswd",
    "/api/events/..%2F..%2Fetc%2Fpasswd",
    "/api/stories/..%2F..%2Fetc%2Fpasswd",
    "/articles/..%2F..%2Fetc%2Fpasswd",
    "/static/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_traversal_paths_answer_404(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert PASSWD not in r.text
    assert r.json()["error"]["code"] == "not_found"


async def test_file_paths_and_urls_in_articles_are_only_text(
    client: httpx.AsyncClient, pipe: Pipeline
) -> None:
    hostile = [
        {"id": "../../etc/passwd", "text": "An article whose id looks like a path.", "url": "file:///etc/passwd"},
        {"id": "file:///etc/passwd", "text": "/etc/passwd", "title": "/etc/shadow", "source": "../../"},
        {"id": "url-file", "text": "A local url.", "url": "file:///etc/passwd"},
        {"id": "url-proc", "text": "A proc url.", "url": "/proc/self/environ"},
    ]  # fmt: skip
    r = await client.post("/api/articles", json=hostile[:3], headers=AUTH)
    assert r.status_code == 200, r.text
    r = await client.post("/api/articles", json=hostile[3:], headers=AUTH)
    assert r.status_code == 200 and r.json()["new"] == 1
    for doc in hostile:
        p = pipe.store.get_article(doc["id"])
        assert p is not None and p.article.text == doc["text"]  # stored as given, never read
        assert p.article.url == doc.get("url")
    r = await client.get("/api/articles/..%2F..%2Fetc%2Fpasswd")
    assert r.status_code == 200 and r.json()["text"] == hostile[0]["text"]
    for path in (
        "/api/articles/file:%2F%2F%2Fetc%2Fpasswd",
        "/articles/url-file",
        "/articles/..%2F..%2Fetc%2Fpasswd",
    ):
        r = await client.get(path)
        assert r.status_code == 200 and PASSWD not in r.text, path
    page = (await client.get("/articles/url-file")).text
    assert 'href="file:' not in page and 'href="/proc' not in page  # not linked either


# -- hostile text is escaped in pages -------------------------------------------------------
HOSTILE_TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)>'
HOSTILE_TEXT = (
    'Storm in Lisbon"><script>alert("x")</script> closed the port </textarea><svg onload=alert(2)>'
)


async def test_hostile_title_and_text_sent_through_the_api_are_escaped(
    client: httpx.AsyncClient, pipe: Pipeline
) -> None:
    doc = {"id": "xss", "title": HOSTILE_TITLE, "text": HOSTILE_TEXT + " " + DOC["text"],
           "lang": "en", "published": "2024-06-07", "url": "javascript:alert(3)"}  # fmt: skip
    r = await client.post("/api/articles", json=doc, headers=AUTH)
    assert r.status_code == 200, r.text
    ev = r.json()["assignments"][0]["event"]
    story = r.json()["assignments"][0]["story"]
    for path in (f"/events/{ev}", f"/stories/{story}", "/articles/xss", "/",
                 "/search?q=script", "/search?q=Lisbon",
                 "/search?q=%3Cscript%3Ealert(4)%3C/script%3E"):  # fmt: skip
        r = await client.get(path)
        assert r.status_code == 200, path
        html = r.text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "<svg onload" not in html and "javascript:alert" not in html, path
        assert "</textarea><svg" not in html, path
    event_page = (await client.get(f"/events/{ev}")).text
    assert "&lt;script&gt;alert(" in event_page  # shown, as text
    search_page = (await client.get("/search?q=%3Cscript%3Ealert(4)%3C/script%3E")).text
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in search_page  # the query is echoed escaped
    # the JSON API gives the text back unchanged, as JSON (never as a page)
    r = await client.get("/api/articles/xss")
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.json()["title"] == HOSTILE_TITLE


# -- storyline serve -----------------------------------------------------------------------
def test_serve_binds_to_loopback_by_default() -> None:
    ctx = main.commands["serve"].make_context("serve", [])  # parse the defaults, run nothing
    assert ctx.params["host"] == "127.0.0.1" and is_loopback(ctx.params["host"])
    assert ctx.params["no_auth"] is False


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org", ""])
def test_serve_refuses_no_auth_on_a_non_loopback_host(
    host: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append((a, k)))
    monkeypatch.delenv("STORYLINE_TOKEN", raising=False)
    result = CliRunner().invoke(
        main, ["serve", "--no-auth", "--host", host, "--db", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 2, result.output
    assert "--no-auth is only allowed on a loopback address" in result.output
    assert started == []  # no server was started


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_serve_allows_no_auth_on_loopback(
    host: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **k: started.append(k))
    monkeypatch.setattr("storyline.http.app.create_app", lambda *a, **k: object())
    monkeypatch.delenv("STORYLINE_TOKEN", raising=False)
    result = CliRunner().invoke(
        main, ["serve", "--no-auth", "--host", host, "--db", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 0, result.output
    assert started and started[0]["host"] == host


def test_is_loopback() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
    for host in (
        "0.0.0.0",
        "::",
        "10.0.0.1",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "",
        None,
    ):
        assert not is_loopback(host), host
