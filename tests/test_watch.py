"""``storyline watch``: a local HTTP server (127.0.0.1, random port) serves an RSS feed and
article pages; never touches the internet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.errors import InputError
from storyline.ingest.watch import FeedWatcher, expand_feeds, http_get
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline

pytest.importorskip("feedparser")
pytest.importorskip("trafilatura")

LONG = (
    "The city council of Lyon approved on Tuesday a plan to close the old river bridge to cars "
    "from next spring. The mayor said the bridge, built in 1894, would be repaired over two "
    "years and reopened to bicycles, buses and people on foot only. Shop owners on both banks "
    "said they feared losing customers while the works last, and asked for help. "
) * 2
PAGE_BODY = (
    "Firefighters in northern Portugal brought a large forest fire under control on Sunday "
    "after three days, the civil protection agency said. About 1,200 hectares burned near the "
    "town of Braga and two villages were evacuated as a precaution. Nobody was hurt. "
)


def rss(base: str) -> bytes:
    items = [
        ("e1", "Lyon closes old bridge to cars", f"<p>{LONG}</p>", f"{base}/page/1.html"),
        ("e2", "Forest fire contained in Portugal", "Fire under control.", f"{base}/page/2.html"),
        ("e3", "Page gone", "Short text kept when the page is missing.", f"{base}/missing"),
        ("e4", "Local file link", "Short text; file links are never read.", "file:///etc/passwd"),
    ]
    body = "".join(
        f"<item><guid>{i}</guid><title>{t}</title><link>{link}</link>"
        f"<description><![CDATA[{d}]]></description>"
        "<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>"
        for i, t, d, link in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Local News</title>'
        f"<language>en</language><link>{base}/</link>{body}</channel></rss>"
    ).encode()


ARTICLE_PAGE = f"""<!doctype html><html><head><title>Forest fire contained</title></head>
<body><nav>Home | World | Sport</nav><article><h1>Forest fire contained in Portugal</h1>
{"".join(f"<p>{PAGE_BODY}</p>" for _ in range(3))}</article>
<footer>Copyright Local News</footer></body></html>""".encode()


class FeedServer(ThreadingHTTPServer):
    honour_etag = True
    etag = '"v1"'
    requests: list[tuple[str, str | None]]


class Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("If-None-Match")))
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/feed.xml":
            if self.server.honour_etag and self.headers.get("If-None-Match") == self.server.etag:
                self._send(304, b"", "application/rss+xml", {"ETag": self.server.etag})
                return
            headers = {"ETag": self.server.etag, "Last-Modified": "Tue, 05 Mar 2024 10:00:00 GMT"}
            self._send(200, rss(base), "application/rss+xml", headers)
        elif self.path.startswith("/page/"):
            self._send(200, ARTICLE_PAGE, "text/html; charset=utf-8")
        else:
            self._send(404, b"not found", "text/plain")


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer(("127.0.0.1", 0), Handler)
    srv.requests = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def url(srv: FeedServer, path: str = "/feed.xml") -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def pipeline() -> Pipeline:
    return Pipeline(":memory:", encoder=HashingEncoder(), second=False)


def test_rounds_ingest_new_entries_then_skip_seen(server: FeedServer) -> None:
    pipe = pipeline()
    watcher = FeedWatcher(pipe)
    (first,) = watcher.round([url(server)])
    assert (first.status, first.entries, first.new, first.known) == ("ok", 4, 4, 0)
    assert first.pages == 1  # e2's page; the missing page and the file: link are not used
    store = pipe.store
    fire = store.get_article("e2")
    assert fire is not None and "1,200 hectares" in fire.article.text  # extracted from the page
    assert "Copyright" not in fire.article.text and "Home | World" not in fire.article.text
    assert fire.article.url and fire.article.source == "Local News"
    gone = store.get_article("e3")
    assert gone is not None and gone.article.text.startswith("Short text kept")
    local = store.get_article("e4")
    assert local is not None and "root:" not in local.article.text
    lyon = store.get_article("e1")
    assert lyon is not None and lyon.article.published is not None
    assert lyon.article.published.isoformat() == "2024-03-05"
    assert ("/page/1.html", None) not in server.requests  # long entry: no page fetch

    # second round: conditional request, 304, nothing fetched or ingested
    server.requests.clear()
    (second,) = watcher.round([url(server)])
    assert second.status == "not modified"
    assert server.requests == [("/feed.xml", '"v1"')]
    assert "etag" in (store.get_state(f"watch:{url(server)}") or "")

    # a server that ignores validators: the same entries are recognised, no page fetched
    server.honour_etag = False
    server.requests.clear()
    (third,) = watcher.round([url(server)])
    assert (third.status, third.new, third.known, third.pages) == ("ok", 0, 4, 0)
    assert [p for p, _ in server.requests] == ["/feed.xml"]
    assert store.count_articles() == 4


def test_a_failing_feed_does_not_stop_the_round(server: FeedServer) -> None:
    watcher = FeedWatcher(pipeline())
    bad, refused, good = watcher.round(
        [url(server, "/nope.xml"), "http://127.0.0.1:9/feed.xml", url(server)]
    )
    assert bad.status == "error" and "404" in bad.error
    assert refused.status == "error"
    assert good.status == "ok" and good.new == 4


def test_validators_are_kept_per_feed(server: FeedServer) -> None:
    pipe = pipeline()
    FeedWatcher(pipe).round([url(server)])
    # a new watcher over the same store (a restarted process) sends the stored ETag
    server.requests.clear()
    (again,) = FeedWatcher(pipe).round([url(server)])
    assert again.status == "not modified" and server.requests[0][1] == '"v1"'


def test_expand_feeds_and_schemes(tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="news">'
        '<outline type="rss" xmlUrl="http://127.0.0.1:1/a.xml"/>'
        '<outline type="rss" xmlUrl="http://127.0.0.1:1/b.xml"/></outline></body></opml>'
    )
    assert expand_feeds([str(opml), "https://example.org/rss", "http://127.0.0.1:1/a.xml"]) == [
        "http://127.0.0.1:1/a.xml",
        "http://127.0.0.1:1/b.xml",
        "https://example.org/rss",
    ]
    with pytest.raises(InputError):
        expand_feeds(["file:///etc/passwd"])
    with pytest.raises(InputError):
        http_get("file:///etc/passwd")


def test_cli_watch_once(server: FeedServer, tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text(f'<opml><body><outline xmlUrl="{url(server)}"/></body></opml>')
    db = tmp_path / "w.db"
    runner = CliRunner()
    r = runner.invoke(main, ["watch", str(opml), "--db", str(db), "--once"])
    assert r.exit_code == 0, r.output
    assert "4 entries, 4 new" in r.output and "1 feeds: 4 new articles" in r.output
    r = runner.invoke(main, ["watch", url(server), "--db", str(db), "--once"])
    assert r.exit_code == 0, r.output
    assert "not modified" in r.output
    r = runner.invoke(main, ["watch", url(server, "/nope.xml"), "--db", str(db), "--once"])
    assert r.exit_code == 3 and "error" in r.output
