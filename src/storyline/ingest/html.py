"""HTML pages (``.html``, ``.htm``): main text, title and date via trafilatura."""

from __future__ import annotations

import logging

from ..errors import MissingExtra
from ..model import Article
from ..prepare.dates import parse_date
from .base import DecodedFileReader, Skip, build_article

logger = logging.getLogger(__name__)

__all__ = ["HtmlReader", "article_from_html"]


def _trafilatura():  # type: ignore[no-untyped-def]
    try:
        import trafilatura
    except ImportError as exc:
        raise MissingExtra("trafilatura", "feeds") from exc
    return trafilatura


def article_from_html(
    html: str, article_id: str, origin: str, url: str | None = None
) -> Article | Skip:
    """Extract the main text, title, language and date of one HTML page."""
    trafilatura = _trafilatura()
    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    if doc is None:
        return Skip(origin, "no extractable text in HTML")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = (data.get("text") or "").strip()
    if not text:
        return Skip(origin, "no extractable text in HTML")
    raw_date = data.get("date")
    if not raw_date:
        try:
            from htmldate import find_date

            raw_date = find_date(html, url=url, original_date=True)
        except ImportError:  # pragma: no cover - htmldate comes with trafilatura
            raw_date = None
    published, precision = parse_date(raw_date)
    return build_article(
        article_id,
        text,
        origin,
        title=(data.get("title") or None),
        lang=(data.get("language") or None),
        published=published,
        precision=precision,
        source=(data.get("sitename") or data.get("hostname") or None),
        url=(data.get("url") or url or None),
    )


class HtmlReader(DecodedFileReader):
    """Reads ``.html`` / ``.htm`` files; the id is the file stem."""

    suffixes = (".html", ".htm", ".xhtml")

    def parse(self, text: str, article_id: str, origin: str) -> Article | Skip:
        return article_from_html(text, article_id, origin)
