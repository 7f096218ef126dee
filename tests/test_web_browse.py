"""What an analyst browses, in-process: filters (pages and JSON API), the display language,
coverage charts, an article's family, paging, cross-lingual search, text direction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from test_web import HTML, no_raw_script

from storyline.http.app import create_app
from storyline.model import Article
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline

pytestmark = pytest.mark.anyio

QUAKE = ("A strong earthquake of magnitude 7.1 struck central Chile on Monday, killing 12 people "
         "and destroying hundreds of homes near the city of Talca, officials said.")  # fmt: skip
SEISME = ("Un fort séisme de magnitude 7,1 a frappé lundi le centre du Chili, tuant 12 personnes "
          "et détruisant des centaines de maisons près de la ville de Talca, selon les autorités.")  # fmt: skip
ARTICLES = [
    Article("q1", QUAKE, title="Earthquake kills 12 in Chile", lang="en",
            published=dt.date(2024, 3, 4), source="Wire"),
    Article("q2", QUAKE + " Rescue teams searched the rubble.", title="Chile quake toll rises",
            lang="en", published=dt.date(2024, 3, 5), source="Daily"),
    Article("q3", SEISME, title="Séisme au Chili : 12 morts", lang="fr",
            published=dt.date(2024, 3, 6), source="الصحيفة"),
    Article("b1", "Les ministres européens se sont réunis à Bruxelles pour parler du budget "
            "agricole et des aides aux agriculteurs de toute l'Union.", title="Budget agricole",
            lang="fr", published=dt.date(2023, 1, 10), source="Presse"),
]  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pipe() -> Pipeline:
    p = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    p.run(ARTICLES)
    return p


@pytest.fixture
async def client(pipe: Pipeline) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(pipe))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def event_of(pipe: Pipeline, article_id: str) -> str:
    a = pipe.store.get_assignment(article_id)
    assert a is not None
    return a.event


async def test_home_filters_are_a_bookmarkable_form(client: httpx.AsyncClient) -> None:
    html = (await client.get("/", params={"lang": "fr", "from": "2024-01-01"})).text
    assert '<form class="filters" action="/" method="get"' in html
    assert re.search(r'<option value="fr" selected>', html)
    assert 'name="from" value="2024-01-01"' in html
    assert "Bruxelles" not in html  # 2023
    assert "Chili" in html  # described in French: the French member's title
    everything = (await client.get("/")).text
    assert "Bruxelles" in everything and "svg" in everything
    assert "timeline-chart" in everything  # recent events, size × date
    none = (await client.get("/", params={"source": "Nobody"})).text
    assert "No story matches these filters" in none
    bad = await client.get("/", params={"from": "yesterday"}, headers=HTML)
    assert bad.status_code == 422


async def test_api_filters_and_sort(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    quake = event_of(pipe, "q1")
    got = (await client.get("/api/events", params={"source": "Wire"})).json()
    assert [e["id"] for e in got["items"]] == [quake]
    fr = (await client.get("/api/events", params={"lang": "fr"})).json()["items"]
    assert all(e["display_lang"] == "fr" for e in fr) and len(fr) == 2
    newest = (await client.get("/api/events")).json()["items"]
    assert newest[0]["id"] == quake  # 2024 before 2023
    by_size = (await client.get("/api/events", params={"sort": "size"})).json()["items"]
    assert by_size[0]["size"] >= by_size[-1]["size"]
    empty = await client.get("/api/events", params={"from": "2024-02-01", "to": "2024-01-01"})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "validation_error"
    assert (await client.get("/api/events", params={"sort": "x"})).status_code == 422
    stories = (await client.get("/api/stories", params={"lang": "fr", "from": "2024-01-01"})).json()
    assert stories["total"] == 1 and stories["items"][0]["display_lang"] == "fr"


async def test_event_in_a_display_language_with_chart(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    quake = event_of(pipe, "q1")
    en = (await client.get(f"/api/events/{quake}")).json()
    assert en["display_lang"] == "en" and not en["display_fallback"]
    fr = (await client.get(f"/api/events/{quake}", params={"lang": "fr"})).json()
    assert fr["display_lang"] == "fr" and "Chili" in fr["headline"]
    de = (await client.get(f"/api/events/{quake}", params={"lang": "de"})).json()
    assert de["display_fallback"] and de["display_lang"] == "en"
    html = (await client.get(f"/events/{quake}", params={"lang": "de"})).text
    assert "No article in German: described in English." in html
    assert '<svg class="chart coverage"' in html and 'data-by="lang"' in html
    assert html.count("<rect") >= 3  # three days, one article each
    by_source = (await client.get(f"/events/{quake}", params={"by": "source"})).text
    assert 'data-by="source"' in by_source and "<bdi>الصحيفة</bdi>" in by_source
    no_raw_script(html)
    assert 'dir="auto"' in html


async def test_article_links_its_family(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    fam = {a: pipe.store.get_assignment(a).family for a in ("q1", "q2", "q3")}  # type: ignore[union-attr]
    assert fam["q1"] == fam["q2"]  # one text, copied with a line added
    rec = (await client.get("/api/articles/q1")).json()
    assert [(m["id"], m["relation"]) for m in rec["family_members"]] == [("q2", "copy")]
    html = (await client.get("/articles/q1")).text
    assert 'href="/articles/q2"' in html and 'data-relation="copy"' in html
    alone = (await client.get("/articles/b1")).text
    assert "No other copy or translation of this text." in alone
    arabic = (await client.get("/articles/q3")).text
    assert "<bdi>الصحيفة</bdi> · <bdi>6 Mar 2024</bdi>" in arabic  # no direction mix-up


async def test_long_events_are_paged(client: httpx.AsyncClient, pipe: Pipeline,
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("storyline.http.pages.ARTICLES_PER_PAGE", 1)
    quake = event_of(pipe, "q1")
    first = (await client.get(f"/events/{quake}")).text
    assert 'rel="next"' in first
    n = pipe.store.get_event(quake).size  # type: ignore[union-attr]
    last = (await client.get(f"/events/{quake}", params={"page": 99})).text
    assert 'rel="prev"' in last and 'rel="next"' not in last and n >= 2


async def test_search_crosses_languages(client: httpx.AsyncClient, pipe: Pipeline) -> None:
    quake = event_of(pipe, "q1")
    found = (await client.get("/api/search", params={"q": "Chili"})).json()
    hit = {e["id"]: e for e in found["events"]}
    assert quake in hit  # "Chili" (fr) names country:CL; so does "Chile" (en)
    budget = event_of(pipe, "b1")
    assert budget not in hit
    html = (await client.get("/search", params={"q": "Chile", "lang": "fr"})).text
    assert "Chili" in html and 'name="q" value="Chile"' in html
    filtered = (await client.get("/api/search", params={"q": "Chile", "to": "2023-12-31"})).json()
    assert filtered["events"] == []
