"""Watch RSS / Atom feeds: poll, fetch what is new, ingest it through the pipeline.

Each round asks every feed with a conditional request (``If-None-Match`` /
``If-Modified-Since`` from the validators stored in the store's state table under
``watch:<url>``); a ``304`` costs nothing. Entries get stable ids from their ``id`` / ``link``
(the same ids as ``storyline ingest feed.xml``), so entries already stored are skipped before
anything is fetched. When an entry carries only a short summary, its page is fetched and the
main text extracted with trafilatura. A feed that fails is logged and the round goes on.
Validators are saved only after the feed's entries are stored, so a crash cannot lose them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError
from ..model import Article
from ..run.pipeline import Pipeline
from ..version import __version__
from .decode import cap_text
from .feeds import (
    entry_date,
    entry_id,
    entry_language,
    html_to_text,
    load_feedparser,
    opml_feed_urls,
    opml_urls_from_bytes,
)

log = logging.getLogger(__name__)

USER_AGENT = f"storyline/{__version__} (feed watcher)"
TIMEOUT = 20.0
MAX_FEED_BYTES = 10 * 1024 * 1024
MIN_ENTRY_CHARS = 400  # shorter entry text: fetch the page and extract its main text


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str


Fetch = Callable[[str, dict[str, str]], HttpResponse]


def _check_http(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"{url}: only http(s) URLs are fetched")


def http_get(url: str, headers: dict[str, str] | None = None, *, timeout: float = TIMEOUT,
             max_bytes: int = MAX_FEED_BYTES) -> HttpResponse:  # fmt: skip
    """GET ``url`` (http/https only) with a timeout and a size cap; 304 is a response."""
    _check_http(url)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            _check_http(resp.geturl())
            body = resp.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise InputError(f"{url}: larger than {max_bytes} bytes")
            return HttpResponse(resp.status, dict(resp.headers.items()), body, resp.geturl())
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return HttpResponse(304, dict(exc.headers.items()), b"", url)
        raise


def extract_page(html: bytes, url: str) -> str:
    """The main text of an article page (trafilatura), or "" when nothing is found."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - depends on the environment
        log.warning("trafilatura is not installed (pip install 'storyline[feeds]'); "
                    "keeping the feed's short text")  # fmt: skip
        return ""
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False)
    return text or ""


@dataclass
class FeedResult:
    """What one poll of one feed did."""

    url: str
    status: str = "ok"  # "ok", "not modified", "error"
    entries: int = 0
    new: int = 0
    known: int = 0
    skipped: int = 0
    pages: int = 0  # article pages fetched for short entries
    error: str = ""

    def line(self) -> str:
        if self.status == "error":
            return f"{self.url}: error: {self.error}"
        if self.status == "not modified":
            return f"{self.url}: not modified"
        return (f"{self.url}: {self.entries} entries, {self.new} new, {self.known} known, "
                f"{self.skipped} skipped, {self.pages} pages fetched")  # fmt: skip


def expand_feeds(args: Sequence[str]) -> list[str]:
    """Feed URLs from the arguments: http(s) URLs as they are, OPML files expanded."""
    urls: list[str] = []
    for arg in args:
        if urlsplit(arg).scheme in ("http", "https"):
            urls.append(arg)
        elif Path(arg).is_file():
            found = opml_feed_urls(arg)
            if not found:
                raise InputError(f"{arg}: no feeds (xmlUrl) in this OPML file")
            urls.extend(found)
        else:
            raise InputError(f"{arg}: not an http(s) feed URL nor an OPML file")
    return list(dict.fromkeys(urls))


class FeedWatcher:
    """Polls feeds into one pipeline. ``fetch`` is injectable (tests, proxies)."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        fetch: Fetch | None = None,
        min_chars: int = MIN_ENTRY_CHARS,
        fetch_pages: bool = True,
    ) -> None:
        self.pipeline = pipeline
        self.fetch = fetch or (lambda url, headers: http_get(url, headers))
        self.min_chars = min_chars
        self.fetch_pages = fetch_pages

    @property
    def store(self) -> Any:
        return self.pipeline.store

    # -- one feed ------------------------------------------------------------------------------
    def poll(self, url: str, nested: bool = False) -> FeedResult:
        """Poll one feed and ingest its new entries. An OPML document at ``url`` is a list of
        feeds: each is polled (the result adds them up)."""
        key = f"watch:{url}"
        saved = json.loads(self.store.get_state(key) or "{}")
        headers: dict[str, str] = {}
        if saved.get("etag"):
            headers["If-None-Match"] = saved["etag"]
        if saved.get("modified"):
            headers["If-Modified-Since"] = saved["modified"]
        resp = self.fetch(url, headers)
        result = FeedResult(url)
        if resp.status == 304:
            result.status = "not modified"
            return result
        feeds = opml_urls_from_bytes(resp.body)
        if feeds is not None:
            if nested:
                raise InputError(f"{url}: an OPML list inside an OPML list is not followed")
            return self._poll_opml(url, feeds)
        articles = self._articles(resp.body, url, result)
        if articles:
            report = self.pipeline.run(articles)
            result.new = report.new
            result.known += report.known
            result.skipped += len(report.skipped)
        lower = {k.lower(): v for k, v in resp.headers.items()}
        self.store.set_state(key, json.dumps({
            "etag": lower.get("etag"),
            "modified": lower.get("last-modified"),
            "checked": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }))  # fmt: skip
        return result

    def _poll_opml(self, url: str, feeds: list[str]) -> FeedResult:
        result = FeedResult(url, status=f"opml ({len(feeds)} feeds)")
        for feed in feeds:
            try:
                sub = self.poll(feed, nested=True)
            except Exception as exc:  # noqa: BLE001 - one feed must not stop the others
                log.error("%s: %s", feed, exc)
                result.skipped += 1
                continue
            result.entries += sub.entries
            result.new += sub.new
            result.known += sub.known
            result.skipped += sub.skipped
            result.pages += sub.pages
        return result

    def _articles(self, data: bytes, url: str, result: FeedResult) -> list[Article]:
        parsed = load_feedparser().parse(data)
        if not parsed.entries and parsed.get("bozo"):
            raise InputError(f"not a feed ({parsed.get('bozo_exception')})")
        source = (parsed.feed.get("title") or "").strip() or urlsplit(url).netloc
        out: list[Article] = []
        for n, entry in enumerate(parsed.entries, 1):
            result.entries += 1
            html = ""
            if entry.get("content"):
                html = max((c.get("value") or "" for c in entry.content), key=len)
            html = html or entry.get("summary") or entry.get("description") or ""
            text = html_to_text(html)
            link = entry.get("link") or None
            article_id = entry_id(entry, text or link or f"{url}#{n}")
            if self.store.has_article(article_id):
                result.known += 1
                continue
            if len(text) < self.min_chars and link and self.fetch_pages:
                text = self._page_text(link, text, result)
            if not text.strip():
                result.skipped += 1
                log.info("%s entry %d: no text", url, n)
                continue
            published, precision = entry_date(entry)
            origin = f"{url}:{n}"
            out.append(Article(
                id=article_id,
                text=cap_text(text, origin),
                title=html_to_text(entry.get("title") or "") or None,
                lang=entry_language(entry, parsed.feed, text),
                published=published,
                source=source,
                url=link,
                origin=origin,
                published_precision=precision if published else "day",
            ))  # fmt: skip
        return out

    def _page_text(self, link: str, text: str, result: FeedResult) -> str:
        try:
            page = self.fetch(link, {})
            result.pages += 1
        except Exception as exc:  # noqa: BLE001 - a page that fails keeps the feed's text
            log.warning("%s: cannot fetch the page (%s); keeping the feed text", link, exc)
            return text
        extracted = extract_page(page.body, page.url) if page.status == 200 else ""
        return extracted if len(extracted) > len(text) else text

    # -- rounds --------------------------------------------------------------------------------
    def round(self, urls: Sequence[str]) -> list[FeedResult]:
        """Poll every feed once; a failing feed is logged and reported, the others go on."""
        results = []
        for url in urls:
            try:
                results.append(self.poll(url))
            except Exception as exc:  # noqa: BLE001 - one feed must not stop the others
                log.error("%s: %s", url, exc)
                results.append(
                    FeedResult(url, status="error", error=str(exc) or type(exc).__name__)
                )
        return results

    def run(
        self,
        urls: Sequence[str],
        *,
        interval: float = 300.0,
        once: bool = False,
        stop: threading.Event | None = None,
        on_round: Callable[[list[FeedResult]], None] | None = None,
    ) -> list[FeedResult]:
        """Poll every ``interval`` seconds until ``stop`` is set (or one round with ``once``)."""
        stop = stop or threading.Event()
        while True:
            results = self.round(urls)
            if on_round is not None:
                on_round(results)
            if once or stop.wait(interval):
                return results


def summarize(results: Sequence[FeedResult]) -> str:
    new = sum(r.new for r in results)
    known = sum(r.known for r in results)
    failed = sum(r.status == "error" for r in results)
    unchanged = sum(r.status == "not modified" for r in results)
    return (f"{len(results)} feeds: {new} new articles, {known} already stored, "
            f"{unchanged} not modified, {failed} failed")  # fmt: skip


__all__ = ["FeedResult", "FeedWatcher", "HttpResponse", "expand_feeds", "extract_page",
           "http_get", "summarize"]  # fmt: skip
