"""A real browser on the real pages: Debian's chromium driven by playwright.

A store is built from the seeds (default pipeline, multilingual USE), 20 ECB+ dev articles and
the bundled samples (examples/news.jsonl, examples/mixed.jsonl); uvicorn serves it on a free
loopback port; chromium opens the home page, clicks from the seeds' story to its June 2020
event and checks what a person sees; then walks as an analyst: the home page filtered by
language and dates → a story (its coverage chart) → an event (chart, families) → an article
(a link to its translation) → search "Iraq" (the French seed event, which says "Irak").
Screenshots of the pages are written to ``docs/``. Skipped, with the reason, when chromium, playwright or the
shared data is missing.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyline.model import Article

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DOCS = Path(__file__).resolve().parents[1] / "docs"
N_ECB = 20

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed (storyline[web])")
    seeds, ecb = Path(__file__).resolve().parent / "data" / "seeds", shared_dir / "data" / "ecbplus_dev.jsonl"
    if not seeds.is_dir() or not ecb.is_file():
        pytest.skip(f"needs {seeds} and {ecb}")
    from storyline.http.app import create_app
    from storyline.run.pipeline import Pipeline

    db = tmp_path_factory.mktemp("browser") / "web.db"
    pipe = Pipeline(str(db))
    pipe.run([str(seeds)])
    rows = [json.loads(line) for line in ecb.read_text(encoding="utf-8").splitlines()[:N_ECB]]
    pipe.run([Article(r["id"], r["text"], title=r.get("title"), lang=r.get("lang")) for r in rows])
    examples = Path(__file__).resolve().parents[1] / "examples"
    pipe.run([str(examples / "news.jsonl"), str(examples / "mixed.jsonl")])
    pipe.store.close()

    port = _free_port()
    config = uvicorn.Config(create_app(str(db)), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_story_to_event(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    expect(page.locator("h1")).to_have_text("Latest stories")
    story = page.locator("section.story").filter(has_text="11 Jun 2020").first
    expect(story).to_be_visible()
    expect(story.locator(".lang", has_text="en").first).to_be_visible()
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "screenshot-home.png"))

    # story page: the timeline, with the English and French coverage
    story.locator("h2 a").click()
    page.wait_for_url("**/stories/*")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("11 Jun 2020")
    langs = {t.strip().lower()[:2] for t in timeline.locator(".lang").all_inner_texts()}
    assert {"en", "fr"} <= langs

    # event page: headline, date, languages, the articles
    timeline.locator("li", has_text="11 Jun 2020").locator("a.ev").click()
    page.wait_for_url("**/events/*")
    expect(page.locator("h1")).to_contain_text("Iraq")
    expect(page.locator(".facts time")).to_have_text("11 Jun 2020")
    expect(page.locator(".facts .lang", has_text="en")).to_be_visible()
    expect(page.locator(".facts .lang", has_text="fr")).to_be_visible()  # seed 004, in French
    api = page.request.get(page.url.replace("/events/", "/api/events/")).json()
    assert api["size"] == 4  # seeds 000, 001, 002 (en) and 004 (fr)
    expect(page.locator("ul.articles li")).to_have_count(api["size"])
    for code in api["languages"]:  # every language of the event is shown
        expect(page.locator(".facts .lang", has_text=code)).to_be_visible()
    expect(page.get_by_role("heading", name="Languages & sources")).to_be_visible()
    page.screenshot(path=str(DOCS / "screenshot-event.png"), full_page=True)
    assert not errors

    # readable on a phone: nothing wider than the screen
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    for path in ("/", page.url.removeprefix(server)):
        phone.goto(server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for shot in ("screenshot-home.png", "screenshot-event.png"):
        assert (DOCS / shot).stat().st_size < 300_000


def test_search_box(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page()
    page.goto(server + "/")
    page.keyboard.press("/")  # app.js focuses the search box
    page.keyboard.type("Klitschko")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=Klitschko")
    expect(page.locator("ol.timeline li").first).to_contain_text("Klitschko")


def test_analyst_walk(server: str, browser: object) -> None:
    """Home (filter by language and dates) → story (chart) → event (chart, families) →
    article (its translation) → search "Iraq" finds the French seed event."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    expect(page.locator("svg.timeline-chart circle").first).to_be_visible()  # recent events
    form = page.locator("form.filters")
    form.locator("select[name=lang]").select_option("fr")
    form.locator("input[name=from]").fill("2023-09-01")
    form.locator("input[name=to]").fill("2023-09-30")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/?*lang=fr*")
    assert "from=2023-09-01" in page.url and "to=2023-09-30" in page.url  # bookmarkable
    cards = page.locator("section.story")
    expect(cards.first).to_be_visible()
    for when in cards.locator("ol.timeline time").all():  # only September 2023 events
        assert when.get_attribute("datetime", timeout=1000).startswith("2023-09")
    derna = cards.filter(has_text="Daniel").first  # Storm Daniel, the Derna floods
    expect(derna).to_be_visible()
    # the same filter in the JSON API
    api = page.request.get(server + "/api/events?lang=fr&from=2023-09-01&to=2023-09-30").json()
    assert api["total"] >= 1 and all("fr" in e["languages"] for e in api["items"])
    page.screenshot(path=str(DOCS / "screenshot-filters.png"))

    derna.locator("h2 a").click()  # story, read in French
    page.wait_for_url("**/stories/*")
    expect(page.locator("svg.chart.coverage rect").first).to_be_visible()
    expect(page.locator(".chart-box .legend")).to_contain_text("French")
    page.screenshot(path=str(DOCS / "screenshot-story.png"), full_page=True)

    page.locator("ol.timeline a.ev", has_text="Daniel").first.click()  # the event
    page.wait_for_url("**/events/*")
    expect(page.locator("svg.chart.coverage rect").first).to_be_visible()
    family = page.locator("section.family.group").first
    expect(family.locator("h3")).to_contain_text("copies or translations")
    expect(family.locator("li")).to_have_count(2)  # the English dispatch and its translation
    page.locator("a", has_text="by source").or_(page.locator(".chart-by a", has_text="source")).first.click()
    expect(page.locator(".chart-box[data-by=source]")).to_be_visible()
    page.screenshot(path=str(DOCS / "screenshot-event.png"), full_page=True)

    family.locator("li", has_text="en").locator("a").first.click()  # the English dispatch
    page.wait_for_url("**/articles/*")
    translation = page.locator(".family-members a[data-relation=translation]")
    expect(translation).to_have_count(1)
    expect(translation).to_have_attribute("lang", "fr")
    heading = page.locator("h1").inner_text()  # m01 is untitled: a headline-like span
    assert heading.startswith("Floodwaters") and len(heading) <= 96
    page.screenshot(path=str(DOCS / "screenshot-article.png"), full_page=True)
    translation.click()
    page.wait_for_url("**/articles/m02")
    expect(page.locator("h1")).to_have_attribute("lang", "fr")

    page.locator("header .search input").fill("Iraq")
    page.locator("header .search button").click()
    page.wait_for_url("**/search?q=Iraq")
    results = page.locator("ol.results li")
    french = results.filter(has_text="Le Premier ministre")  # the 2024 seed, all in French
    expect(french).to_have_count(1)
    expect(french.locator(".why")).to_contain_text("a name it mentions")
    page.screenshot(path=str(DOCS / "screenshot-search.png"))
    assert not errors
    for shot in ("filters", "story", "event", "article", "search"):
        assert (DOCS / f"screenshot-{shot}.png").stat().st_size < 400_000
