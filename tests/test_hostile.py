"""Hostile, broken and odd inputs: none of them can break a run or a store.

Each case writes one or more files next to a file of good articles, and the whole folder
(or the named files) is run through the pipeline (hashing encoder) under a time bound. Every
case must end without an exception, with every good article stored and assigned exactly
once, each expected skip reported with its reason, and each odd-but-usable article stored
(with the field that was unusable dropped or repaired). The HTTP API gets the same kind of
inputs (poison pills answer 2xx with the article tamed, or 4xx; the server stays up).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storyline import Pipeline
from storyline.model import Article
from storyline.prepare.guard import MAX_ID_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS
from storyline.represent.encoder import HashingEncoder

BOUND = 30.0  # seconds per case (most take well under one)
MB = 1_000_000
GOOD = [
    {"id": f"good-{n}", "text": text, "published": "2024-03-04"}
    for n, text in enumerate([
        "A magnitude 7.1 earthquake struck central Chile on Monday, killing 12 people.",
        "Rescue teams in Chile searched the rubble on Monday after the earthquake.",
        "Rail workers in France walked out on Tuesday; most high-speed trains were cancelled.",
    ])
]  # fmt: skip
BODY = "Floods hit the city of Cologne on Monday after two days of heavy rain."


def j(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def jl(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode("utf-8")


@dataclass
class Case:
    """``files``: name → bytes (or a callable making the file at that path); ``skips``:
    origin suffix → reason fragment; ``stored``: id → check on the stored article."""

    name: str
    files: dict[str, bytes | Callable[[Path], None]]
    skips: dict[str, str] = field(default_factory=dict)
    stored: dict[str, Callable[[Article], bool]] = field(default_factory=dict)
    explicit: bool = False  # name the files on the command line instead of the folder
    needs: str | None = None  # a module the case needs


def ok(a: Article) -> bool:
    return bool(a.text.strip())


def no_date(a: Article) -> bool:
    return a.published is None


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dangling(path: Path) -> None:
    os.symlink(path.parent / "nowhere", path)


def parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["pq-1", "pq-2"], "text": [BODY, BODY + " More rain."]}), path)


def arrow(path: Path) -> None:
    import pyarrow as pa
    from pyarrow import feather

    feather.write_feather(pa.table({"id": ["ar-1"], "body": [BODY]}), path)


RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    "<language>en-gb</language><link>http://e.x/</link>"
    "<item><title>Inondations à Cologne</title><guid>rss-fr</guid><description>Le Rhin est "
    "sorti de son lit lundi à Cologne après deux jours de pluies torrentielles ; les pompiers "
    "ont évacué des habitants en bateau.</description></item>"
    "<item><title>Floods in Cologne</title><guid>rss-en</guid><description>The Rhine burst its "
    "banks in Cologne on Monday after two days of heavy rain.</description></item>"
    "</channel></rss>"
)

CASES = [
    # -- dates ------------------------------------------------------------------------------
    Case("date-9999-12-31", {"d.jsonl": jl(j(id="d1", text=BODY, published="9999-12-31"))}, stored={"d1": no_date}),
    Case("date-9999", {"d.jsonl": jl(j(id="d2", text=BODY, published="9999"))}, stored={"d2": no_date}),
    Case("date-9999-12", {"d.jsonl": jl(j(id="d3", text=BODY, published="9999-12"))}, stored={"d3": no_date}),
    Case("date-0001-01-01", {"d.jsonl": jl(j(id="d4", text=BODY, published="0001-01-01"))}, stored={"d4": no_date}),
    Case("date-rfc-9999", {"d.jsonl": jl(j(id="d5", text=BODY, published="Fri, 31 Dec 9999 23:59:59 +0000"))}, stored={"d5": no_date}),
    Case("date-epoch", {"d.jsonl": jl(j(id="d6", text=BODY, published="1970-01-01T00:00:00Z"))}, stored={"d6": no_date}),
    Case("date-far-future", {"d.jsonl": jl(j(id="d7", text=BODY, published="2999-01-01"))}, stored={"d7": no_date}),
    Case("date-int", {"d.jsonl": jl(j(id="d8", text=BODY, published=99999999))}, stored={"d8": no_date}),
    Case("date-in-text-9999", {"d.txt": b"date: 2024-03-04\nPUBLISHED: 31 December 9999\n" + BODY.encode()}, stored={"d": ok}),
    # -- ids --------------------------------------------------------------------------------
    Case("id-5000-digits", {"i.jsonl": b'{"id": ' + b"7" * 5000 + b', "text": "' + BODY.encode() + b'"}\n'},
         stored={"7" * (MAX_ID_CHARS - 17): ok}),
    Case("id-controls", {"i.jsonl": jl(j(id="id\x1b]0;x\x07\u202eok", text=BODY))}, stored={"id]0;xok": ok}),
    Case("id-10k-chars", {"i.jsonl": jl(j(id="x" * 10_000, text=BODY))},
         stored={"x" * (MAX_ID_CHARS - 17): lambda a: len(a.id) == MAX_ID_CHARS}),
    Case("id-nan", {"i.jsonl": b'{"id": NaN, "text": "' + BODY.encode() + b' NaN id."}\n'}),
    Case("id-object", {"i.jsonl": jl(j(id={"a": [1]}, text=BODY + " Object id."))}),
    # -- huge fields and pathological words --------------------------------------------------
    Case("title-4MB", {"t.jsonl": jl(j(id="t4", title="Breaking " * (4 * MB // 9), text=BODY))},
         stored={"t4": lambda a: len(a.title or "") <= MAX_TITLE_CHARS}),
    Case("title-10MB-one-word", {"t.jsonl": jl(j(id="t10", title="x" * (10 * MB), text=BODY))},
         stored={"t10": lambda a: len(a.title or "") <= MAX_TITLE_CHARS}),
    Case("text-5MB-one-word", {"w.jsonl": jl(j(id="w5", text="a" * (5 * MB)))},
         stored={"w5": lambda a: len(a.text) <= MAX_TEXT_CHARS and max(map(len, a.text.split())) <= 200}),
    Case("combining-200k", {"z.jsonl": jl(j(id="zalgo", text="Zalgo " + "\u0301" * 200_000 + " " + BODY))},
         stored={"zalgo": lambda a: len(a.text) < 1000}),
    Case("base64-147k", {"b.jsonl": jl(j(id="b64", text=BODY + " " + "QUJDRA1" * 21_000))},
         stored={"b64": lambda a: "QUJD" not in a.text}),
    Case("base64-only", {"b.jsonl": jl(j(id="b64only", text="QUJDRA1" * 21_000))}, skips={"b.jsonl:1": "empty text"}),
    Case("cjk-run-200k", {"c.jsonl": jl(j(id="cjk", text="東京で地震" * 40_000))}, stored={"cjk": ok}),
    Case("no-sentence-end", {"s.jsonl": jl(j(id="ns", text="word " * 200_000))}, stored={"ns": ok}),
    Case("million-newlines", {"n.txt": b"Title line\n" + b"\n" * MB + BODY.encode()}, stored={"n": ok}),
    Case("many-short-lines", {"m.txt": ("line\n" * 100_000 + BODY).encode()}, stored={"m": ok}),
    # -- odd characters ---------------------------------------------------------------------
    Case("nul-in-text", {"c.jsonl": jl(j(id="nul", text="Before \u0000 after. " + BODY))}, stored={"nul": lambda a: "\x00" not in a.text}),
    Case("esc-osc-bel-title", {"c.jsonl": jl(j(id="esc", title="\x1b]0;owned\x07\x1b[31mRed", text=BODY))},
         stored={"esc": lambda a: "\x1b" not in (a.title or "") and "\x07" not in (a.title or "")}),
    Case("rich-markup-title", {"c.jsonl": jl(j(id="markup", title="[/bold] talks [in Geneva] [i]", text=BODY))},
         stored={"markup": lambda a: a.title == "[/bold] talks [in Geneva] [i]"}),
    Case("bidi-override", {"c.jsonl": jl(j(id="bidi", title="abc\u202edcba", text=BODY))}, stored={"bidi": lambda a: "\u202e" not in (a.title or "")}),
    Case("lone-surrogate", {"c.jsonl": b'{"id": "sur", "text": "Party \\ud83c time. ' + BODY.encode() + b'"}\n'}, stored={"sur": ok}),
    Case("title-only-controls", {"c.jsonl": jl(j(id="ctl", title="\x01\x02\x03", text=BODY))}, stored={"ctl": lambda a: a.title is None}),
    # -- encodings --------------------------------------------------------------------------
    Case("gbk-line", {"e.jsonl": jl(j(id="u8", text=BODY)) + j(id="gbk", text="北京举行了会议，数千人参加。").encode("gb18030") + b"\n"},
         stored={"u8": ok, "gbk": lambda a: "北京" in a.text}),
    Case("shift-jis-line", {"e.jsonl": j(id="sjis", text="東京で大きな地震があった。").encode("shift_jis") + b"\n"},
         stored={"sjis": lambda a: "東京" in a.text}),
    Case("bom-mid-file", {"e.jsonl": codecs.BOM_UTF8 + jl(j(id="bom1", text=BODY)) + codecs.BOM_UTF8 + jl(j(id="bom2", text=BODY + " Again."))},
         stored={"bom1": ok, "bom2": ok}),
    Case("cr-only", {"e.jsonl": (j(id="cr1", text=BODY) + "\r" + j(id="cr2", text=BODY + " Two.") + "\r").encode()},
         stored={"cr1": ok, "cr2": ok}),
    Case("crlf-mixed", {"e.jsonl": (j(id="m1", text=BODY) + "\r\n" + j(id="m2", text=BODY + " Two.") + "\n").encode()},
         stored={"m1": ok, "m2": ok}),
    Case("utf16-no-bom", {"e.jsonl": jl(j(id="u16a", text=BODY), j(id="u16b", text=BODY + " B.")).decode().encode("utf-16-le")},
         stored={"u16a": ok, "u16b": ok}),
    Case("utf16-u2028", {"e.jsonl": codecs.BOM_UTF16_LE + (j(id="ls", text="Line\u2028sep. " + BODY) + "\n" + j(id="ls2", text=BODY + " 2.") + "\n").encode("utf-16-le")},
         stored={"ls": ok, "ls2": ok}),
    Case("latin1-text-file", {"l.txt": ("Le café était fermé à Noël. " + BODY).encode("latin-1")}, stored={"l": lambda a: "café" in a.text}),
    # -- compressed -------------------------------------------------------------------------
    Case("jsonl-gz", {"z.jsonl.gz": gzip.compress(jl(j(id="gz", text=BODY)))}, stored={"gz": ok}),
    Case("jsonl-bz2", {"z.jsonl.bz2": bz2.compress(jl(j(id="bz", text=BODY)))}, stored={"bz": ok}),
    Case("jsonl-xz", {"z.jsonl.xz": lzma.compress(jl(j(id="xz", text=BODY)))}, stored={"xz": ok}),
    Case("gzip-named-jsonl", {"z.jsonl": gzip.compress(jl(j(id="gzn", text=BODY)))}, stored={"gzn": ok}),
    Case("gzip-truncated", {"z.jsonl.gz": gzip.compress(jl(j(id="tr1", text=BODY), *[j(id=f"tr{n}", text=BODY * 20) for n in range(2, 400)]))[:3000]},
         skips={"z.jsonl.gz": "unreadable"}),
    Case("csv-gz", {"z.csv.gz": gzip.compress(f"id,text\ncsvgz,{BODY}\n".encode())}, stored={"csvgz": ok}),
    # -- tables and JSON documents ----------------------------------------------------------
    Case("csv", {"a.csv": f'id,title,text,published\ncsv1,"A, title","{BODY}",2024-03-04\ncsv2,,"{BODY} Two.",9999-12-31\n'.encode()},
         stored={"csv1": lambda a: a.title == "A, title", "csv2": no_date}),
    Case("tsv", {"a.tsv": f"id\ttext\ntsv1\t{BODY}\n".encode()}, stored={"tsv1": ok}),
    Case("csv-no-text-column", {"a.csv": b"id,name\n1,x\n"}, skips={"a.csv": "no text column"}),
    Case("csv-empty", {"a.csv": b""}, skips={"a.csv": "empty"}),
    Case("csv-formula", {"a.csv": f'id,title,text\nf1,"=HYPERLINK(""http://x"")","{BODY}"\n'.encode()}, stored={"f1": ok}),
    Case("csv-binary", {"a.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8}, skips={"a.csv": ""}),
    Case("csv-huge-cell", {"a.csv": ("id,text\nhc," + "word " * 400_000 + "\n").encode()}, stored={"hc": lambda a: len(a.text) <= MAX_TEXT_CHARS}),
    Case("json-array", {"a.json": json.dumps([{"id": "ja1", "text": BODY}, {"id": "ja2", "text": BODY + " 2."}]).encode()}, stored={"ja1": ok, "ja2": ok}),
    Case("json-wrapped", {"a.json": json.dumps({"articles": [{"id": "jw", "text": BODY}]}).encode()}, stored={"jw": ok}),
    Case("json-one-object", {"a.json": json.dumps({"id": "jo", "text": BODY}, indent=2).encode()}, stored={"jo": ok}),
    Case("json-malformed", {"a.json": b'[{"id": "x", "text": '}, skips={"a.json": "malformed JSON"}),
    Case("json-scalar", {"a.json": b"42"}, skips={"a.json:1": "expected a JSON object"}),
    Case("json-deep", {"a.json": b"[" * 100_000 + b"]" * 100_000}, skips={"a.json": "malformed JSON"}),
    Case("parquet", {"a.parquet": parquet}, stored={"pq-1": ok, "pq-2": ok}, needs="pyarrow"),
    Case("arrow", {"a.arrow": arrow}, stored={"ar-1": ok}, needs="pyarrow"),
    Case("parquet-corrupt", {"a.parquet": b"PAR1" + b"\x00junk" * 100}, skips={"a.parquet": ""}, needs="pyarrow"),
    # -- files that are not files -----------------------------------------------------------
    Case("fifo-in-folder", {"pipe.jsonl": fifo}, skips={"pipe.jsonl": "fifo"}),
    Case("dangling-symlink", {"gone.jsonl": dangling}, skips={"gone.jsonl": "unreadable"}),
    Case("unknown-type", {"photo.png": b"\x89PNG\r\n\x1a\n" + bytes(64)}, skips={"photo.png": "unsupported file type"}),
    Case("explicit-empty-folder", {"folder.jsonl": lambda p: p.mkdir()}, skips={"folder.jsonl": "empty folder"}, explicit=True),
    Case("explicit-csv", {"named.csv": f"id,text\nnc,{BODY}\n".encode()}, stored={"nc": ok}, explicit=True),
    # -- languages and feeds ----------------------------------------------------------------
    Case("lang-tags", {"l.jsonl": jl(j(id="l1", text=BODY, lang="en-GB"), j(id="l2", text=BODY + " 2", lang="pt_BR"),
                                     j(id="l3", text=BODY + " 3", lang="zh-Hant"), j(id="l4", text=BODY + " 4", lang="!!"))},
         stored={"l1": lambda a: a.lang == "en", "l2": lambda a: a.lang == "pt", "l3": lambda a: a.lang == "zh", "l4": lambda a: a.lang is None}),
    Case("feed-channel-language", {"f.rss": RSS.encode()},
         stored={"rss-fr": lambda a: a.lang in (None, "fr"), "rss-en": lambda a: a.lang in (None, "en")}, needs="feedparser"),
    # -- duplicates and mixed garbage -------------------------------------------------------
    Case("duplicate-id-other-text", {"dup.jsonl": jl(j(id="good-0", text="Other text entirely."))}, skips={"dup.jsonl:1": "duplicate id"}),
    Case("garbage-lines", {"g.jsonl": jl("{not json", "[1,2]", "null", j(id="gl", text=BODY), '{"id": "cut", "text": "x')},
         skips={"g.jsonl:1": "malformed", "g.jsonl:2": "expected a JSON object", "g.jsonl:3": "expected a JSON object", "g.jsonl:5": "malformed"},
         stored={"gl": ok}),
]  # fmt: skip


def good_file(root: Path) -> None:
    (root / "aa-good.jsonl").write_bytes(jl(*(json.dumps(g) for g in GOOD)))


def make(root: Path, case: Case) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    good_file(root)
    named = [str(root / "aa-good.jsonl")]
    for name, data in case.files.items():
        path = root / name
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        named.append(str(path))
    return named if case.explicit else [str(root)]


def check(pipe: Pipeline, report, case: Case) -> None:  # type: ignore[no-untyped-def]
    assigned = [a.article_id for a in report.assignments]
    assert len(assigned) == len(set(assigned)), "an article was assigned twice"
    stored = {p.id: p for p in pipe.store.iter_articles()}
    rows = list(pipe.store.iter_assignments())
    assert len(rows) == len({a.article_id for a in rows}) == len(stored)  # each once
    for g in GOOD:
        assert g["id"] in stored and pipe.store.get_assignment(str(g["id"])) is not None, g["id"]
    for aid, test in case.stored.items():
        match = [p for i, p in stored.items() if i == aid or (len(aid) > 50 and i.startswith(aid))]
        assert match, (aid[:60], sorted(stored)[:10])
        assert test(match[0].article), (aid[:60], match[0].article.title, match[0].article.text[:80])
        ev = pipe.store.get_event(pipe.store.get_assignment(match[0].id).event)  # type: ignore[union-attr]
        assert ev is not None and match[0].id in ev.article_ids
    got = {s.origin: s.reason for s in report.skipped}
    for suffix, why in case.skips.items():
        hits = [r for o, r in got.items() if o.endswith(suffix)]
        assert hits, (suffix, got)
        assert any(why in r for r in hits), (suffix, why, hits)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_beside_good_articles(case: Case, tmp_path: Path) -> None:
    if case.needs:
        pytest.importorskip(case.needs)
    inputs = make(tmp_path / "in", case)
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    t0 = time.perf_counter()
    report = pipe.run(inputs)
    took = time.perf_counter() - t0
    assert took < BOUND, f"{case.name} took {took:.1f}s"
    check(pipe, report, case)
    again = pipe.run(inputs)  # a second run adds nothing and breaks nothing
    assert again.new == 0


def test_at_least_fifty_kinds() -> None:
    assert len(CASES) >= 50


def test_quarantine_keeps_a_failing_article_and_never_retries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article whose preparation raises is quarantined with its error; later runs skip
    it; ``retry_quarantined`` runs it again (here successfully)."""
    import storyline.prepare.article as art

    real = art.prepare

    def poisoned(a: Article, repeated: object = None) -> object:
        if "POISON" in a.text:
            raise MemoryError("simulated blow-up")
        return real(a, repeated)  # type: ignore[arg-type]

    monkeypatch.setattr(art, "prepare", poisoned)
    pipe = Pipeline(tmp_path / "s.db", encoder=HashingEncoder(), second=False)
    arts = [Article(g["id"], g["text"]) for g in GOOD] + [Article("pill", "POISON " + BODY)]  # type: ignore[arg-type]
    report = pipe.run(arts)
    assert {a.article_id for a in report.assignments} == {g["id"] for g in GOOD}
    assert any("quarantined: prepare: MemoryError" in s.reason for s in report.skipped)
    assert [q.article.id for q in pipe.store.quarantined()] == ["pill"]
    again = pipe.run(arts)
    assert any("quarantined earlier" in s.reason for s in again.skipped) and again.new == 0
    monkeypatch.setattr(art, "prepare", real)
    retried = pipe.retry_quarantined()
    assert [a.article_id for a in retried.assignments] == ["pill"]
    assert pipe.store.quarantined() == []


def test_pending_article_of_crashed_runs_is_quarantined(tmp_path: Path) -> None:
    """An article stored but left without an event by runs that all stopped is suspected:
    after MAX_ATTEMPTS such runs it is quarantined instead of being tried again."""
    from storyline.prepare.article import prepare
    from storyline.run.pipeline import MAX_ATTEMPTS

    db = tmp_path / "s.db"
    pipe = Pipeline(db, encoder=HashingEncoder(), second=False)
    pipe.run([Article("ok", BODY)])
    pipe.store.add_article(prepare(Article("stuck", BODY + " Stuck.")))  # as a killed run leaves it
    pipe.store.set_state("attempts", json.dumps({"stuck": MAX_ATTEMPTS - 1}))
    fresh = Pipeline(db, encoder=HashingEncoder(), second=False)
    report = fresh.run([Article("new", "Rail strike in France on Tuesday.")])
    assert [q.article.id for q in fresh.store.quarantined()] == ["stuck"]
    assert fresh.store.get_assignment("stuck") is None and fresh.store.get_assignment("new")
    assert report.new == 1
    retried = fresh.retry_quarantined()
    assert fresh.store.get_assignment("stuck") is not None, retried.summary()


# -- the CLI ------------------------------------------------------------------------------
def cli(*args: str, db: Path, stdin: bytes | None = None) -> tuple[int, str, str]:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
           "STORYLINE_ENCODER": "hashing"}  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "storyline", *args, "--db", str(db)],
                       input=stdin, capture_output=True, env=env, timeout=120, check=False)  # fmt: skip
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def test_cli_prints_hostile_titles_as_text(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jl(
        j(id="m1", title="[/bold] Talks [in Geneva] resume [i]", text=BODY),
        j(id="e\x1b[2Jx", title="\x1b]0;owned\x07Bell", text="Rail strike in France on Tuesday."),
    ))  # fmt: skip
    db = tmp_path / "s.db"
    code, out, err = cli("cluster", str(src), db=db)
    assert code == 0, err
    assert "Traceback" not in err and "[in Geneva]" in out and "[/bold]" in out and "[i]" in out
    assert "\x1b" not in out and "\x07" not in out
    for cmd in (["events"], ["stories"], ["skipped"]):
        code, out, err = cli(*cmd, db=db)
        assert code == 0 and "Traceback" not in err, (cmd, err)
        assert "\x1b" not in out and "\x07" not in out
    code, out, _ = cli("events", db=db)
    assert "[in Geneva]" in out


def test_cli_export_escapes_formulas(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(jl(j(id="=cmd", title="=HYPERLINK(\"http://x\")", text=BODY)))
    db = tmp_path / "s.db"
    assert cli("ingest", str(src), db=db)[0] == 0
    code, out, err = cli("export", "--format", "csv", db=db)
    if code == 2 and "no such option" in err:
        pytest.skip("export has no --format csv here")
    assert code == 0, err
    assert "=HYPERLINK" not in out.replace("'=HYPERLINK", "") and "'=cmd" in out


def test_cli_store_errors_are_one_line_exit_5(tmp_path: Path) -> None:
    """The store's driver failing (here: a disk-full error injected into the writes) ends
    with one line and exit 5; what was committed before is kept."""
    import sqlite3

    from click.testing import CliRunner

    from storyline.cli import main
    from storyline.store.sqlite import SQLiteStore

    db = tmp_path / "s.db"
    src = tmp_path / "in.jsonl"
    src.write_bytes(jl(j(id="a", text=BODY)))
    os.environ["STORYLINE_ENCODER"] = "hashing"
    try:
        assert CliRunner().invoke(main, ["ingest", str(src), "--db", str(db), "-q"]).exit_code == 0
        real = SQLiteStore.add_article

        def full(self, item):  # type: ignore[no-untyped-def]
            raise sqlite3.OperationalError("database or disk is full")

        SQLiteStore.add_article = full  # type: ignore[method-assign]
        try:
            src.write_bytes(jl(j(id="b", text="Rail strike in France on Tuesday.")))
            r = CliRunner().invoke(main, ["ingest", str(src), "--db", str(db), "-q"])
        finally:
            SQLiteStore.add_article = real  # type: ignore[method-assign]
    finally:
        del os.environ["STORYLINE_ENCODER"]
    assert r.exit_code == 5, r.output
    assert "store error: database or disk is full" in r.output and "Traceback" not in r.output
    with SQLiteStore(db) as store:
        assert store.get_assignment("a") is not None


def test_serve_port_in_use_and_public(tmp_path: Path) -> None:
    import socket

    from click.testing import CliRunner

    from storyline.cli import main

    pytest.importorskip("uvicorn")
    db = tmp_path / "s.db"
    Pipeline(db, encoder=HashingEncoder(), second=False).run([Article("a", BODY)])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = CliRunner().invoke(main, ["serve", "--db", str(db), "--port", str(port)])
    assert r.exit_code == 1 and "cannot listen on 127.0.0.1" in r.output, r.output
    r = CliRunner().invoke(main, ["serve", "--db", str(db), "--host", "0.0.0.0"], env={"STORYLINE_TOKEN": ""})
    assert r.exit_code == 2 and "--public" in r.output, r.output
    token = tmp_path / "token"
    token.write_text("")
    r = CliRunner().invoke(main, ["serve", "--db", str(db), "--token-file", str(token)])
    assert r.exit_code == 2 and "holds no token" in r.output


# -- the HTTP API -------------------------------------------------------------------------
def test_http_hostile_posts_leave_the_server_alive() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from storyline.http.app import create_app

    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    auth = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    bodies: list[tuple[bytes, tuple[int, ...]]] = [
        (json.dumps({"id": "t4", "title": "Breaking " * (4 * MB // 9), "text": BODY}).encode(), (200, 413)),
        (json.dumps({"id": "big", "text": "x" * (6 * MB)}).encode(), (413,)),
        (json.dumps([{"id": "d9", "text": BODY, "published": "9999-12-31"}, {"id": "ok", "text": BODY + " ok"}]).encode(), (200,)),
        (b'{"id": ' + b"9" * 5000 + b', "text": "x"}', (200, 400, 422)),
        (b"[" * 50_000 + b"]" * 50_000, (400, 413, 422)),
        (b'{"text": "\xff\xfe bad utf-8"}', (400, 422)),
        (json.dumps({"id": "z", "text": "Z" + "\u0301" * 200_000}).encode(), (200,)),
        (json.dumps({"id": "\x1b[31m", "text": BODY + " esc id"}).encode(), (200,)),
        (b"null", (400, 422)),
        (json.dumps({"id": "only-title", "title": "T"}).encode(), (200,)),
    ]
    with TestClient(create_app(pipe, token="t")) as client:
        for body, allowed in bodies:
            r = client.post("/api/articles", headers=auth, content=body)
            assert r.status_code in allowed, (body[:60], r.status_code, r.text[:200])
            assert client.get("/api/health").status_code == 200
        assert client.get("/api/articles/d9").json()["published"] is None
        r = client.get("/api/skipped")
        assert r.status_code == 200 and r.json()["total"] == 0
        r = client.get("/api/events/ev-nope", headers={"Host": "evil.example"})
        assert r.status_code == 404
