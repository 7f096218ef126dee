"""Server-rendered pages, in-process: what they show, escaping, links, redirects, errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from test_api import ARTICLES, event_of, make_pipeline

from storyline.http.app import create_app
from storyline.http.render import safe_url
from storyline.model import Merge
from storyline.run.pipeline import Pipeline

pytestmark = pytest.mark.anyio
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pipe() -> Pipeline:
    return make_pipeline()


@pytest.fixture
async def client(pipe: Pipeline) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(pipe))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def no_raw_script(html: str) -> None:
    assert "<script>alert" not in html
    assert "javascript:" not in html.lower()
    # the only scripts are our own file
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts[0] == '<script src="/static/app.js" defer>'
    assert set(scripts[1:]) <= {'<script src="/static/correct.js" defer>'}  # why / corrections


async def test_home_lists_stories_with_timelines(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    r = await client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "default-src 'self'" in r.headers["content-security-policy"]
    quake = event_of(pipe, "q1")
    assert f'href="/events/{quake}"' in html and "4 Mar 2024" in html and "2 articles" in html
    assert html.index("Chile") < html.index("Budget")  # newest story first
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    no_raw_script(html)


async def test_event_page(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    quake = event_of(pipe, "q1")
    html = (await client.get(f"/events/{quake}")).text
    assert "4 Mar 2024" in html and "English" in html
    assert "Wire" in html and "Daily" in html  # sources
    assert 'href="https://example.org/q1"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert 'href="/articles/q2"' in html  # no url: link to the stored text
    assert f'href="/api/events/{quake}"' in html
    ev = pipe.store.get_event(quake)
    assert ev is not None and ev.story and f'href="/stories/{ev.story}"' in html


async def test_hostile_article_is_escaped_everywhere(
    client: httpx.AsyncClient, pipe: Pipeline
) -> None:
    ev = event_of(pipe, "x1")
    for path in ("/", f"/events/{ev}", "/articles/x1", "/search?q=budget",
                 f"/stories/{pipe.store.get_assignment('x1').story}"):  # type: ignore[union-attr]  # fmt: skip
        r = await client.get(path)
        assert r.status_code == 200, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text, path
        no_raw_script(r.text)


async def test_story_article_and_search_pages(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    a = pipe.store.get_assignment("q1")
    assert a is not None
    html = (await client.get(f"/stories/{a.story}")).text
    assert f'href="/events/{a.event}"' in html and 'class="timeline"' in html
    html = (await client.get("/articles/q1")).text
    assert "Earthquake kills 12 in Chile" in html and "<p>A strong earthquake" in html
    html = (await client.get("/search", params={"q": "chile"})).text
    assert f'href="/events/{a.event}"' in html and "1 event" in html
    assert 'value="chile"' in html
    html = (await client.get("/search", params={"q": "zzzz"})).text
    assert "0 events" in html
    html = (await client.get("/search", params={"lang": "fr"})).text
    assert "in French" in html and f"/events/{event_of(pipe, 'x1')}" in html


async def test_merged_event_redirects_to_survivor_page(
    client: httpx.AsyncClient, pipe: Pipeline
) -> None:
    quake = event_of(pipe, "q1")
    pipe.store.record_merge(Merge("event", "ev-old", quake, 0.9, "2024-01-01T00:00:00"))
    r = await client.get("/events/ev-old")
    assert r.status_code == 308 and r.headers["location"] == f"/events/{quake}"


async def test_browser_gets_an_html_error_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/events/ev-nope", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no event ev-nope" in r.text and "404" in r.text
    r = await client.get("/api/events/ev-nope", headers=HTML)  # the API stays JSON
    assert r.json()["error"]["code"] == "not_found"


async def test_static_files(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/style.css")
    assert css.status_code == 200 and "@media" in css.text
    assert (await client.get("/static/app.js")).status_code == 200


def test_safe_url() -> None:
    assert safe_url("https://example.org/a") == "https://example.org/a"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil", "ftp://x/y", "", None):
        assert safe_url(bad) is None


def test_articles_fixture_has_hostile_content() -> None:
    assert any("<script>" in (a.title or "") for a in ARTICLES)
