"""The correction buttons of the event page and the why section of the article page, in a
real browser (Debian's chromium driven by playwright): move an article to a new event with
the server's token, see the correction listed, undo it. Skipped, with the reason, when
chromium, playwright or uvicorn is missing."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "news.jsonl"
TOKEN = "browser-token"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, object]]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed (storyline[web])")
    from storyline.http.app import create_app
    from storyline.represent.encoder import HashingEncoder
    from storyline.run.pipeline import Pipeline

    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    pipe.run([str(SAMPLE)])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(pipe, token=TOKEN), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", pipe
    srv.should_exit = True
    thread.join(timeout=10)


def test_move_and_undo_from_the_event_page(served: tuple[str, object]) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, pipe = served
    store = pipe.store  # type: ignore[attr-defined]
    before = store.get_assignment("n03").event
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server}/articles/n03")
        expect(page.locator(".why-summary")).to_contain_text("mean pair probability")  # filled by correct.js
        page.goto(f"{server}/events/{before}")
        box = page.locator("section.correct")
        expect(box.get_by_role("heading", name="Correct this event")).to_be_visible()
        # without the token the server refuses, and says so
        form = box.locator("form[data-action=move]")
        form.locator("select[name=article]").select_option("n03")
        form.locator("input[name=to]").fill("new")
        form.get_by_role("button", name="Move").click()
        expect(box.locator(".correct-status")).to_contain_text("Not saved")
        assert store.get_assignment("n03").event == before
        box.locator(".correct-token").fill(TOKEN)
        form.get_by_role("button", name="Move").click()
        page.wait_for_url(lambda url: before not in url)
        moved = store.get_assignment("n03").event
        assert moved != before and page.url.endswith(f"/events/{moved}")
        log = page.locator(".correct-log li")
        expect(log).to_have_count(1)
        expect(log).to_contain_text("move by api")
        log.get_by_role("button", name="Undo").click()
        expect(page.locator(".correct-log li")).to_contain_text("undone")
        assert store.get_assignment("n03").event == before
        assert not errors
        phone = browser.new_page(viewport={"width": 390, "height": 844})  # the buttons fit a phone
        phone.goto(f"{server}/events/{before}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
