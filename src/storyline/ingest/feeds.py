"""Feeds (``.xml``, ``.rss``, ``.atom``) via feedparser, and OPML feed lists."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..errors import MissingExtra
from ..model import Article
from ..prepare.dates import parse_date
from .base import Skip, SuffixReader, build_article
from .decode import looks_binary

logger = logging.getLogger(__name__)

__all__ = ["FeedReader", "OpmlReader", "html_to_text", "opml_feed_urls", "read_feed_bytes"]

_SAFE_ID = re.compile(r"^[\w.:\-]{1,64}$")
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"}


class _Stripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Strip tags from an HTML fragment, keeping block breaks as newlines.

    >>> html_to_text("<p>One &amp; two</p><p>Three<script>x()</script></p>")
    'One & two\\nThree'
    """
    parser = _Stripper()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in "".join(parser.parts).split("\n")]
    return "\n".join(ln for ln in lines if ln)


def load_feedparser():  # type: ignore[no-untyped-def]
    try:
        import feedparser
    except ImportError as exc:
        raise MissingExtra("feedparser", "feeds") from exc
    return feedparser


def entry_id(entry: Any, text: str) -> str:
    raw = entry.get("id") or entry.get("link") or ""
    if raw and _SAFE_ID.match(raw):
        return str(raw)
    seed = raw or text
    return "feed-" + hashlib.sha1(seed.encode("utf-8")).hexdigest()[:16]


def entry_date(entry: Any) -> tuple[dt.date | None, str]:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = entry.get(key)
        if st:
            try:
                return dt.date(st.tm_year, st.tm_mon, st.tm_mday), "day"
            except ValueError:
                continue
    for key in ("published", "updated", "created"):
        if entry.get(key):
            d, prec = parse_date(entry[key])
            if d:
                return d, prec
    return None, "none"


def entry_language(entry: Any, feed: Any, text: str) -> str | None:
    """The language of one entry: its own tag (``dc:language``, ``xml:lang`` differing from
    the channel's) wins; else the language detected from its text when the detection is
    sure (None: the pipeline detects it the same way); the channel's ``<language>`` only
    when the text says too little. Tags are normalised (``en-GB`` → ``en``)."""
    from ..prepare.lang import detect_language, normalize_lang

    channel = normalize_lang(feed.get("language"))
    own = normalize_lang(entry.get("language"))
    if own:
        return own
    for detail in [*(entry.get("content") or []), entry.get("summary_detail"), entry.get("title_detail")]:
        tag = normalize_lang((detail or {}).get("language"))
        if tag and tag != channel:
            return tag
    if not channel:
        return None
    lang, conf = detect_language(f"{entry.get('title') or ''}\n{text}")
    return None if lang != "und" and conf >= 0.5 else channel


def opml_urls_from_bytes(data: bytes) -> list[str] | None:
    """The feed URLs of an OPML document; None when ``data`` is not OPML."""
    import xml.etree.ElementTree as ET

    if b"<opml" not in data[:4096].lower():
        return None
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    if root.tag.lower() != "opml":
        return None
    return [el.attrib["xmlUrl"] for el in root.iter("outline") if el.attrib.get("xmlUrl")]


def read_feed_bytes(data: bytes, name: str) -> Iterator[Article | Skip]:
    """Parse a feed document; one article per entry, origins ``name:ENTRY``."""
    feedparser = load_feedparser()
    parsed = feedparser.parse(data)
    feed_title = (parsed.feed.get("title") or "").strip() or None
    if not parsed.entries:
        reason = "no entries in feed"
        if parsed.get("bozo"):
            reason += f" ({parsed.get('bozo_exception')})"
        yield Skip(name, reason)
        return
    for n, entry in enumerate(parsed.entries, 1):
        origin = f"{name}:{n}"
        html = ""
        if entry.get("content"):
            html = max((c.get("value") or "" for c in entry.content), key=len)
        if not html:
            html = entry.get("summary") or entry.get("description") or ""
        text = html_to_text(html)
        if not text.strip():
            yield Skip(origin, "feed entry without text")
            continue
        title = html_to_text(entry.get("title") or "") or None
        published, precision = entry_date(entry)
        yield build_article(
            entry_id(entry, text),
            text,
            origin,
            title=title,
            lang=entry_language(entry, parsed.feed, text),
            published=published,
            precision=precision,
            source=feed_title,
            url=entry.get("link") or None,
        )


class FeedReader(SuffixReader):
    """Reads RSS / Atom files."""

    suffixes = (".xml", ".rss", ".atom")

    def read(self, path: str) -> Iterator[Article | Skip]:
        data = Path(path).read_bytes()
        if not data.strip():
            yield Skip(path, "empty")
            return
        if looks_binary(data):
            yield Skip(path, "binary file")
            return
        yield from read_feed_bytes(data, path)


class OpmlReader(SuffixReader):
    """OPML files list feeds to fetch; reading them is the watcher's job."""

    suffixes = (".opml",)

    def read(self, path: str) -> Iterator[Article | Skip]:
        yield Skip(path, "OPML lists feeds; use `storyline watch`")


def opml_feed_urls(path: str) -> list[str]:
    """The feed URLs (``xmlUrl``) listed in an OPML file, in document order."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        from ..errors import InputError

        raise InputError(f"{path}: not a valid OPML file ({exc})") from exc
    return [el.attrib["xmlUrl"] for el in root.iter("outline") if el.attrib.get("xmlUrl")]
