"""Plain-text articles (``.txt``), with optional header lines such as `` date 2024-01``."""

from __future__ import annotations

import logging
import re

from ..model import Article
from ..prepare.clean.sentences import looks_like_title
from ..prepare.dates import parse_date
from .base import DecodedFileReader, Skip, build_article

logger = logging.getLogger(__name__)

__all__ = ["TextReader", "parse_text_article"]

# " date 2024-01 body..." (seed header, possibly on the same line as the body)
_SEED_DATE = re.compile(r"^\s*date\s+(\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?)\b[ \t]*")
# "key: value" header lines
_HEADER = re.compile(
    r"^\s*(date|published|title|source|url|lang|language)\s*:\s*(.*?)\s*$", re.IGNORECASE
)
_MAX_HEADER_LINES = 8


def parse_text_article(raw: str, article_id: str, origin: str) -> Article | Skip:
    """Build an article from a text file's content (headers, title line, body)."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = raw.split("\n")
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and i < _MAX_HEADER_LINES:
        line = lines[i]
        m = _HEADER.match(line)
        if m and m.group(2):
            key = m.group(1).lower()
            key = {"published": "date", "language": "lang"}.get(key, key)
            meta.setdefault(key, m.group(2))
            i += 1
            continue
        m = _SEED_DATE.match(line)
        if m and "date" not in meta:
            meta["date"] = m.group(1)
            rest = line[m.end() :]
            if rest.strip():
                lines[i] = rest  # header on the same line as the body: keep the rest
                break
            i += 1
            continue
        if not line.strip() and meta:
            i += 1
            continue
        break
    body_lines = lines[i:]
    while body_lines and not body_lines[0].strip():
        body_lines.pop(0)
    title = meta.get("title") or None
    if title is None and body_lines:
        first = body_lines[0].strip()
        rest = "\n".join(body_lines[1:]).strip()
        if rest and looks_like_title(first):
            title = first
            body_lines = body_lines[1:]
    body = "\n".join(body_lines).strip()
    if not body:
        return Skip(origin, "empty")
    published, precision = parse_date(meta.get("date"))
    if meta.get("date") and published is None:
        logger.warning("%s: unparseable date header %r", origin, meta["date"])
    return build_article(
        article_id,
        body,
        origin,
        title=title,
        lang=(meta.get("lang") or None),
        published=published,
        precision=precision,
        source=meta.get("source") or None,
        url=meta.get("url") or None,
    )


class TextReader(DecodedFileReader):
    """Reads ``.txt`` files; the id is the file stem."""

    suffixes = (".txt", ".text", ".md")

    def parse(self, text: str, article_id: str, origin: str) -> Article | Skip:
        return parse_text_article(text, article_id, origin)
