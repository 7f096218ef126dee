"""Every input format gives the same articles and the same assignments: ``examples/news.jsonl``
as CSV, TSV, JSON (array and ``{"articles": [...]}``), Parquet, Arrow, and compressed
(gz, bz2, xz), through files, a folder and a pipe."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import subprocess
import sys
from pathlib import Path

import pytest

from storyline import Pipeline
from storyline.ingest import read_inputs
from storyline.model import Article
from storyline.represent.encoder import HashingEncoder

NEWS = Path(__file__).resolve().parents[1] / "examples" / "news.jsonl"
FIELDS = ("id", "title", "text", "lang", "published", "source", "url")


def records() -> list[dict[str, object]]:
    return [json.loads(line) for line in NEWS.read_text("utf-8").splitlines() if line.strip()]


def write_csv(path: Path, rows: list[dict[str, object]], delimiter: str = ",") -> None:
    cols = [c for c in FIELDS if any(c in r for r in rows)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, cols, delimiter=delimiter)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})


def variants(root: Path) -> dict[str, Path]:
    rows = records()
    raw = NEWS.read_bytes()
    out = {"jsonl": root / "news.jsonl"}
    out["jsonl"].write_bytes(raw)
    write_csv(root / "news.csv", rows)
    write_csv(root / "news.tsv", rows, "\t")
    out["csv"], out["tsv"] = root / "news.csv", root / "news.tsv"
    (root / "news.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    (root / "wrapped.json").write_text(json.dumps({"articles": rows}), "utf-8")
    out["json"], out["wrapped-json"] = root / "news.json", root / "wrapped.json"
    (root / "news.jsonl.gz").write_bytes(gzip.compress(raw))
    (root / "news.jsonl.bz2").write_bytes(bz2.compress(raw))
    (root / "news.jsonl.xz").write_bytes(lzma.compress(raw))
    (root / "news.csv.gz").write_bytes(gzip.compress((root / "news.csv").read_bytes()))
    (root / "news.json.xz").write_bytes(lzma.compress((root / "news.json").read_bytes()))
    for name in ("news.jsonl.gz", "news.jsonl.bz2", "news.jsonl.xz", "news.csv.gz", "news.json.xz"):
        out[name] = root / name
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyarrow import feather
    except ImportError:
        return out
    cols = {c: [r.get(c) for r in rows] for c in FIELDS}
    table = pa.table(cols)
    pq.write_table(table, root / "news.parquet", row_group_size=5)
    feather.write_feather(table, root / "news.arrow")
    out["parquet"], out["arrow"] = root / "news.parquet", root / "news.arrow"
    return out


def articles(path: Path) -> list[tuple[object, ...]]:
    got = [a for a in read_inputs([str(path)]) if isinstance(a, Article)]
    return [tuple(getattr(a, f) for f in FIELDS) for a in got]


def assignments(path: Path | list[dict[str, object]]) -> list[tuple[str, str, str]]:
    pipe = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
    report = pipe.run(path if isinstance(path, list) else str(path))
    assert not report.skipped, report.skipped
    # event ids derive from member ids: the grouping itself is compared
    groups = {}
    for a in report.assignments:
        groups.setdefault(a.event, []).append(a.article_id)
    return sorted(tuple(sorted(g)) for g in groups.values())  # type: ignore[misc]


def test_every_format_reads_the_same_articles_and_assigns_them_alike(tmp_path: Path) -> None:
    paths = variants(tmp_path)
    want = articles(paths["jsonl"])
    assert len(want) == len(records())
    for name, path in paths.items():
        assert articles(path) == want, name
    base = assignments(paths["jsonl"])
    for name in ("csv", "tsv", "json", "news.jsonl.gz", "parquet", "arrow"):
        if name in paths:
            assert assignments(paths[name]) == base, name
    assert assignments(records()) == base  # dicts through the Python API


def test_parquet_present_when_pyarrow_is() -> None:
    pytest.importorskip("pyarrow")


def test_pipe_and_stdin_are_read_by_content(tmp_path: Path) -> None:
    """``ingest -`` and a pipe (``<(zcat x.gz)``): gzip, then JSON Lines, by content."""
    gz = tmp_path / "news.jsonl.gz"
    gz.write_bytes(gzip.compress(NEWS.read_bytes()))
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {"PYTHONPATH": src, "STORYLINE_ENCODER": "hashing", "PATH": "/usr/bin:/bin"}
    db = tmp_path / "s.db"
    with open(gz, "rb") as fh:
        r = subprocess.run([sys.executable, "-m", "storyline", "ingest", "-", "--db", str(db), "-q"],
                           stdin=fh, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert f"{len(records())} new" in r.stderr
    cmd = f'{sys.executable} -m storyline ingest <(zcat "{gz}") <(cat "{tmp_path}/none.csv" 2>/dev/null; printf "id,text\\nx1,Storm hits the coast on Monday.\\n") --db "{db}" -q'
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert f"1 new, {len(records())} already stored" in r.stderr


def test_cli_column_mapping(tmp_path: Path) -> None:
    """``--columns FIELD=COLUMN,...`` names the columns of a table with other headers."""
    src = tmp_path / "wire.tsv"
    src.write_text("ref\tstory\thead\nk1\tFloods hit Cologne on Monday after heavy rain.\tCologne floods\n")
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "STORYLINE_ENCODER": "hashing"}
    cmd = [sys.executable, "-m", "storyline", "ingest", str(src), "--db", str(tmp_path / "s.db"), "-q"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 3 and "no text column" in r.stderr
    r = subprocess.run([*cmd, "--columns", "id=ref,text=story,title=head"],
                       capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert r.returncode == 0 and "1 new" in r.stderr, r.stderr
    from storyline.store.sqlite import SQLiteStore

    with SQLiteStore(tmp_path / "s.db") as store:
        p = store.get_article("k1")
        assert p is not None and p.article.title == "Cologne floods"
