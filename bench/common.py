"""Shared helpers for the benchmarks: dev data, perturbed replicas, timing, RSS, results.

Large inputs are **replicas of the dev-set articles, perturbed** so that no two are
byte-identical (the content hash differs, so the vector cache never short-circuits encoding):

* a new id (``<dev id>~r<replica>``);
* sentence order shuffled inside each paragraph (lines between blank lines);
* each sentence dropped with p=0.10 (at least one kept) and duplicated with p=0.05;
* each number in the text and title replaced by a random number of the same length
  with p=0.5;
* ``published`` spread uniformly over 2023 (one year).

Nothing is downloaded; the dev files are read from ``$STORYLINE_SHARED/data`` (default
``../shared/data`` next to the repository) and never copied into the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DEV_SETS = ("ecbplus_dev", "wmt21_dev")

PERTURBATION = (
    "replicas of the ECB+ and WMT21 dev articles, perturbed: new ids, sentence order shuffled "
    "within paragraphs, sentences dropped (p=0.10) / duplicated (p=0.05), numbers changed "
    "(p=0.5 each), published dates spread uniformly over 2023; no two texts byte-identical"
)


def shared_data() -> Path:
    for cand in (os.environ.get("STORYLINE_SHARED"), REPO.parent / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "data").is_dir():
            return Path(cand) / "data"
    sys.exit("shared data not found: set STORYLINE_SHARED (folder with data/)")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def dev_rows(sets: Sequence[str] = DEV_SETS) -> list[dict]:
    """The dev articles as JSON rows (ECB+ then WMT21), with the set name in ``_set``."""
    data = shared_data()
    rows = []
    for name in sets:
        for r in read_jsonl(data / f"{name}.jsonl"):
            r["_set"] = name
            rows.append(r)
    return rows


def dev_gold(sets: Sequence[str] = DEV_SETS) -> dict[str, str]:
    data = shared_data()
    gold = {}
    for name in sets:
        for r in read_jsonl(data / f"{name}.gold.jsonl"):
            gold[r["id"]] = f"{name}:{r['event']}"
    return gold


_NUM = re.compile(r"\d+")


def _change_numbers(text: str, rng: random.Random) -> str:
    def sub(m: re.Match[str]) -> str:
        s = m.group(0)
        if rng.random() >= 0.5:
            return s
        lo = 10 ** (len(s) - 1) if len(s) > 1 else 0
        return str(rng.randint(lo, 10 ** len(s) - 1))

    return _NUM.sub(sub, text)


def perturb_row(row: dict, replica: int, rng: random.Random) -> dict:
    """One perturbed copy of a dev row (see the module doc)."""
    paras = re.split(r"\n\s*\n", row["text"])
    out_paras = []
    for para in paras:
        lines = [ln for ln in para.split("\n") if ln.strip()]
        rng.shuffle(lines)
        kept: list[str] = []
        for ln in lines:
            if rng.random() < 0.10:
                continue
            kept.append(ln)
            if rng.random() < 0.05:
                kept.append(ln)
        if not kept and lines:
            kept = [lines[0]]
        if kept:
            out_paras.append("\n".join(_change_numbers(ln, rng) for ln in kept))
    text = "\n\n".join(out_paras) or row["text"]
    new = {
        "id": f"{row['id']}~r{replica}",
        "text": text,
        "lang": row.get("lang"),
        "published": (dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(365))).isoformat(),
        "_orig": row["id"],
        "_set": row.get("_set"),
        "_replica": replica,
    }
    if row.get("title"):
        new["title"] = _change_numbers(row["title"], rng)
    return new


def replica_rows(n: int, seed: int = 13) -> list[dict]:
    """``n`` perturbed replicas of the dev rows, replica by replica (deterministic)."""
    base = dev_rows()
    rng = random.Random(seed)
    out: list[dict] = []
    replica = 0
    while len(out) < n:
        for row in base:
            if len(out) >= n:
                break
            out.append(perturb_row(row, replica, rng))
        replica += 1
    return out


def to_articles(rows: Sequence[dict]) -> list:
    from storyline.model import Article

    return [
        Article(
            id=r["id"],
            text=r["text"],
            title=r.get("title"),
            lang=r.get("lang"),
            published=dt.date.fromisoformat(r["published"]) if r.get("published") else None,
            source=r.get("source"),
        )
        for r in rows
    ]


# -- measurement --------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def children_peak_rss_mb() -> float:
    """Largest peak RSS among this process's finished children (e.g. an encoder process)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def children_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _tree_rss_mb(root: int) -> float:
    """Current RSS of a process and all its descendants (Linux /proc)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/statm") as fh:
                rss[int(d)] = int(fh.read().split()[1])
        except OSError:
            continue
        parent[int(d)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier and p not in tree]
        tree.update(kids)
        frontier = kids
    return sum(rss.get(p, 0) for p in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


class TreeRSSSampler:
    """Samples the summed RSS of this process and its children in a thread; ``peak_mb``."""

    def __init__(self, every: float = 0.25) -> None:
        import threading

        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(me))
            self._stop.wait(self.every)

    def __enter__(self) -> TreeRSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Timer:
    def __enter__(self) -> Timer:
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0


def percentile(values: Sequence[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def run_child(argv: list[str], timeout: float | None = None, env: dict[str, str] | None = None) -> dict:
    """Run a benchmark step in a fresh interpreter; it prints one JSON object last on stdout."""
    env = dict(os.environ if env is None else env)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    proc = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"child {argv} failed with code {proc.returncode}")
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(last)


def terms_repr(weights: dict[str, float]):  # type: ignore[no-untyped-def]
    """Term weights in the representation the library currently uses (dict, or sorted
    (term-hash, weight) arrays since the sparse-vector change)."""
    from storyline.represent import features as F

    if not hasattr(F, "term_id"):
        return weights
    import numpy as np

    pairs = sorted({F.term_id(t): v for t, v in weights.items()}.items())
    return (np.fromiter((k for k, _ in pairs), getattr(F, "TERM_ID", np.int64), len(pairs)),
            np.fromiter((v for _, v in pairs), np.float32, len(pairs)))


def sents_repr(sents):  # type: ignore[no-untyped-def]
    """Sentence vectors as ``FeatureBuilder.features`` keeps them (rows and dtype)."""
    import inspect

    import numpy as np

    from storyline.prepare import article as prepare

    src = inspect.getsource(prepare.FeatureBuilder.features)
    dtype = np.float16 if "float16" in src else np.float32
    return sents[: prepare.MAX_SENTENCES].astype(dtype)


def vec_repr(v):  # type: ignore[no-untyped-def]
    """Doc / lead vector as ``FeatureBuilder.features`` keeps it (float16 since da34703)."""
    import inspect

    import numpy as np

    from storyline.prepare import article as prepare

    src = inspect.getsource(prepare.FeatureBuilder.features)
    return v.astype(np.float16 if "doc.astype(np.float16)" in src else np.float32)


def library_state() -> dict:
    """Commit and uncommitted library files: other engineers edit the tree while we measure."""
    st = subprocess.run(["git", "status", "--porcelain", "src"], capture_output=True, text=True, cwd=REPO)
    return {"dirty_src_files": sorted(ln[3:] for ln in st.stdout.splitlines())}


def machine() -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "commit": git.stdout.strip(),
        **library_state(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, payload: dict, table: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{name}.md").write_text(table.rstrip() + "\n")
    print(table)
    print(f"wrote {RESULTS / name}.json and .md")


def md_table(header: Sequence[str], rows: Iterator[Sequence[object]] | Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(lines)
