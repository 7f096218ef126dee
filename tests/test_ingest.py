"""Readers: text headers, JSONL validation, encodings, binary/empty files, directories, stdin."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from storyline.errors import InputError
from storyline.ingest import MAX_TEXT_CHARS, Skip, read_inputs
from storyline.model import Article, content_hash


def _shared() -> Path:
    """The bundled seeds (``tests/data/seeds``): seed tests run on any clone."""
    return Path(__file__).resolve().parent / "data"


def _one(items: list[Article | Skip]) -> Article | Skip:
    assert len(items) == 1, items
    return items[0]


def test_txt_seed_header_same_line(tmp_path: Path) -> None:
    p = tmp_path / "003.txt"
    p.write_text(" date 2024-01 Le Premier ministre « parraine » le lancement.\n\nSuite.", "utf-8")
    a = _one(list(read_inputs([str(p)])))
    assert isinstance(a, Article)
    assert a.id == "003"
    assert a.text.startswith("Le Premier ministre")
    assert a.published == dt.date(2024, 1, 1) and a.published_precision == "month"
    assert a.title is None  # the first line ends with a period


def test_txt_key_headers_and_title(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text(
        "title: Given title\ndate: 2020-06-11\nsource: afp\nurl: http://x\nlang: en\n\nBody one.\n",
        "utf-8",
    )
    a = _one(list(read_inputs([str(p)])))
    assert isinstance(a, Article)
    assert (a.title, a.published, a.source, a.url, a.lang, a.text) == (
        "Given title",
        dt.date(2020, 6, 11),
        "afp",
        "http://x",
        "en",
        "Body one.",
    )
    p2 = tmp_path / "b.txt"
    p2.write_text("Talks resume in Baghdad\n\nThe two countries met.", "utf-8")
    b = _one(list(read_inputs([str(p2)])))
    assert isinstance(b, Article) and b.title == "Talks resume in Baghdad"
    assert b.text == "The two countries met."
    p3 = tmp_path / "c.txt"
    p3.write_text("Only one line without a period", "utf-8")
    c = _one(list(read_inputs([str(p3)])))
    assert isinstance(c, Article) and c.title is None  # no text follows


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"  \n\n", "empty"), (b"abc\x00\x01\x02def" * 50, "binary file")],
)
def test_txt_empty_and_binary(tmp_path: Path, data: bytes, reason: str) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(data)
    s = _one(list(read_inputs([str(p)])))
    assert isinstance(s, Skip) and s.reason == reason and s.origin == str(p)


def test_txt_encodings(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Le café était fermé à Noël.".encode("latin-1"))
    (tmp_path / "u16.txt").write_bytes(codecs.BOM_UTF16_LE + "Zürich und Köln.".encode("utf-16-le"))
    (tmp_path / "bom.txt").write_bytes(codecs.BOM_UTF8 + "title: T\n\nÉté.".encode())
    got = {a.id: a for a in read_inputs([str(tmp_path)]) if isinstance(a, Article)}
    assert got["latin"].text == "Le café était fermé à Noël."
    assert got["u16"].text == "Zürich und Köln."
    assert got["bom"].title == "T" and got["bom"].text == "Été."


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Hello world.", "published": "2020-06-11T10:00:00Z"}),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"id": "b", "text": ""}),
        json.dumps({"id": "c", "text": 5}),
        json.dumps({"id": "d", "text": "x", "title": ["no"]}),
        "",
        json.dumps({"body": "No id here.", "title": "T"}),
        json.dumps({"id": "e", "content": "Bad date kept.", "published": "someday"}),
        json.dumps({"id": 7, "text": "int id"}),
        '{"id": "trunc", "text": "cut',
    ]
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines), "utf-8")
    items = list(read_inputs([str(p)]))
    skips = {s.origin: s.reason for s in items if isinstance(s, Skip)}
    # every field is checked on its own: a title of the wrong type is dropped, the article kept
    assert set(skips) == {f"{p}:{n}" for n in (2, 3, 4, 5, 11)}
    assert "malformed JSON" in skips[f"{p}:2"] and "malformed JSON" in skips[f"{p}:11"]
    arts = [a for a in items if isinstance(a, Article)]
    assert [a.id for a in arts] == ["a", "d", content_hash("No id here.", "T"), "e", "7"]
    assert arts[0].published == dt.date(2020, 6, 11) and arts[0].origin == f"{p}:1"
    assert arts[1].title is None and arts[1].text == "x"
    assert arts[3].published is None and arts[3].text == "Bad date kept."


def test_jsonl_huge_line_is_capped(tmp_path: Path) -> None:
    p = tmp_path / "big.ndjson"
    big = "word " * (MAX_TEXT_CHARS // 2)
    p.write_text(json.dumps({"id": "big", "text": big}) + "\n" + '{"id": "s", "text": "ok"}\n')
    items = list(read_inputs([str(p)]))
    assert [a.id for a in items] == ["big", "s"]
    assert isinstance(items[0], Article) and len(items[0].text) == MAX_TEXT_CHARS


def test_jsonl_binary_and_utf16(tmp_path: Path) -> None:
    p = tmp_path / "bin.jsonl"
    p.write_bytes(b'{"id": "a"}\x00\x00\x00')
    assert _one(list(read_inputs([str(p)]))) == Skip(str(p), "binary file")
    q = tmp_path / "u16.jsonl"
    q.write_bytes(codecs.BOM_UTF16_LE + '{"id": "x", "text": "né"}\n'.encode("utf-16-le"))
    a = _one(list(read_inputs([str(q)])))
    assert isinstance(a, Article) and a.text == "né"


def test_stdin_and_missing_path() -> None:
    stream = io.StringIO('{"id": "s1", "text": "From stdin."}\nnope\n')
    items = list(read_inputs(["-"], stdin=stream))
    assert isinstance(items[0], Article) and items[0].id == "s1"
    assert items[1] == Skip("<stdin>:2", items[1].reason)
    with pytest.raises(InputError, match="no such file"):
        list(read_inputs(["/nonexistent/file.txt"]))


def test_directory_order_and_unknown(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("Second body.")
    (tmp_path / "a.txt").write_text("First body.")
    (tmp_path / "c.bin").write_bytes(b"\x00\x01")
    (tmp_path / "notes.weird").write_text("Explicit unknown is text.")
    (tmp_path / "feeds.opml").write_text("<opml/>")
    items = list(read_inputs([str(tmp_path)]))
    assert [getattr(a, "id", None) for a in items] == ["a", "2", None, None, None]
    # files of other types in a folder are skips with their reason, never silently ignored
    reasons = {Path(s.origin).name: s.reason for s in items if isinstance(s, Skip)}
    assert "storyline watch" in reasons["feeds.opml"]
    assert reasons["c.bin"] == "unsupported file type (.bin)"
    assert reasons["notes.weird"] == "unsupported file type (.weird)"
    explicit = _one(list(read_inputs([str(tmp_path / "notes.weird")])))
    assert isinstance(explicit, Article) and explicit.text == "Explicit unknown is text."


def test_feed(tmp_path: Path) -> None:
    pytest.importorskip("feedparser")
    rss = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
    <item><title>Talks</title><link>http://e.x/1</link><guid>http://e.x/1</guid>
    <pubDate>Thu, 11 Jun 2020 10:00:00 GMT</pubDate>
    <description>&lt;p&gt;The talks &lt;b&gt;resumed&lt;/b&gt;.&lt;/p&gt;</description></item>
    <item><title>Empty</title><description></description></item></channel></rss>"""
    p = tmp_path / "f.rss"
    p.write_text(rss)
    items = list(read_inputs([str(p)]))
    a = items[0]
    assert isinstance(a, Article)
    assert (a.text, a.title, a.source, a.published) == (
        "The talks resumed.",
        "Talks",
        "Wire",
        dt.date(2020, 6, 11),
    )
    assert a.id.startswith("feed-") and a.url == "http://e.x/1"
    assert items[1] == Skip(f"{p}:2", "feed entry without text")


def test_html(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    body = " ".join(["The two countries resumed their strategic dialogue on Thursday."] * 8)
    html = f"""<html><head><title>Talks resume</title>
    <meta property="article:published_time" content="2020-06-11"></head>
    <body><nav>Home | World</nav><article><h1>Talks resume</h1><p>{body}</p>
    <p>{body}</p></article><footer>Cookies</footer></body></html>"""
    p = tmp_path / "page.html"
    p.write_text(html)
    a = _one(list(read_inputs([str(p)])))
    assert isinstance(a, Article) and "strategic dialogue" in a.text
    assert a.published == dt.date(2020, 6, 11) and a.id == "page"
    e = tmp_path / "empty.html"
    e.write_text("<html><body></body></html>")
    assert isinstance(_one(list(read_inputs([str(e)]))), Skip)


def test_seed_files() -> None:
    shared = _shared()
    if shared is None:
        pytest.skip("shared seeds not found (../shared or $STORYLINE_SHARED)")
    arts = [a for a in read_inputs([str(shared / "seeds")]) if isinstance(a, Article)]
    assert len(arts) == 5
    by = {a.id[:3]: a for a in arts}
    assert by["003"].published == dt.date(2024, 1, 1)
    assert by["003"].published_precision == "month"
    assert by["003"].text.startswith("Le Premier ministre")
    assert by["004"].title is not None and by["004"].title.startswith("Après les tensions")
    assert by["000"].title is None and by["000"].published is None
