"""Distributed ingest on Ray: 2 workers vs 1 on the same machine, same assignments.

For each worker count, a fresh interpreter opens a fresh SQLite store with the default
pipeline (USE, lazy e5, shipped scorer), runs :func:`storyline.run.distributed.ingest` with
that many Ray workers (a local Ray started for the step), then :meth:`Pipeline.assign`
(the one ordered clusterer, from the stored vectors), with the default commits (stories are
linked every 1000 articles, not at the 30-second commits, so they do not depend on the
machine's speed). Timed separately: Ray start + model loads, ingest, assign. The assignments
(article -> event, story, family) of every step are compared with the first one's;
``--single`` adds the single-process ``Pipeline.run`` for comparison (its encoder batches
articles in date order, the workers in input order, so USE vectors may differ in the last
bits; the agreement is reported, not assumed).

    python bench/distributed.py --size 1000 [--workers 1,2] [--single]

Needs ``storyline[ray]``. Writes ``bench/results/distributed.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common


def _inputs(n: int, workdir: Path) -> Path:
    src = workdir / f"in{n}.jsonl"
    if not src.exists():
        with src.open("w", encoding="utf-8") as fh:
            for r in common.replica_rows(n):
                fh.write(json.dumps({k: v for k, v in r.items() if not k.startswith("_")}, ensure_ascii=False) + "\n")
    return src


def child(kind: str, n: int, workers: int, workdir: Path) -> dict:
    from storyline import Pipeline
    from storyline.run.distributed import ingest

    src = _inputs(n, workdir)
    db = workdir / f"{kind}{workers}.db"
    load_avg = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    # the default commits: every 1000 articles or 30 s; stories are linked at the counted
    # ones only, so the timed ones (which fall where the machine's speed puts them) change
    # no story and the runs stay comparable
    pipe = Pipeline(str(db))
    out: dict = {"kind": kind, "workers": workers, "load_avg": load_avg}
    if kind == "single":
        report = pipe.run([str(src)])
        out["seconds"] = round(time.perf_counter() - t0, 2)
    else:
        rep = ingest(pipe, [str(src)], workers=workers, backend="ray")
        t1 = time.perf_counter()
        report = pipe.assign(rep.order)
        t2 = time.perf_counter()
        out.update(ingest_seconds=round(t1 - t0, 2), assign_seconds=round(t2 - t1, 2),
                   seconds=round(t2 - t0, 2), texts=rep.texts, second_texts=rep.second)
    assigned = {a.article_id: [a.event, a.story, a.family] for a in report.assignments}
    (workdir / f"{kind}{workers}.json").write_text(json.dumps(assigned))
    out.update(articles=len(assigned), events=len({v[0] for v in assigned.values()}),
               peak_rss_mb=round(common.peak_rss_mb(), 1))
    pipe.store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--single", action="store_true", help="also run the single-process pipeline")
    ap.add_argument("--out", default="distributed")
    ap.add_argument("--_child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        kind, n, w, d = args._child
        print(json.dumps(child(kind, int(n), int(w), Path(d))))
        return
    steps = [("ray", int(w)) for w in args.workers.split(",")] + ([("single", 1)] if args.single else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="storyline-bench-") as tmp:
        _inputs(args.size, Path(tmp))
        first = None
        for kind, w in steps:
            print(f"[distributed] {args.size} articles, {kind} {w} …", flush=True)
            res = common.run_child([__file__, "--_child", kind, str(args.size), str(w), tmp])
            got = json.loads((Path(tmp) / f"{kind}{w}.json").read_text())
            if first is None:
                first = got
            same = sum(got.get(k) == v for k, v in first.items())
            res["identical_to_first"] = same == len(first) == len(got)
            res["same_assignment_as_first"] = f"{same}/{len(first)}"
            for i, what in enumerate(("event", "story", "family")):
                res[f"same_{what}_as_first"] = sum(k in got and got[k][i] == v[i] for k, v in first.items())
            print(f"  {res}", flush=True)
            rows.append(res)
    payload = {"benchmark": "distributed", "size": args.size, "inputs": common.PERTURBATION,
               "machine": common.machine(), "results": rows}
    table = "\n".join([
        f"### Distributed ingest on Ray: {args.size} articles, workers on one 2-core machine",
        "",
        ("ingest = local Ray start + worker model loads + prepare + encode (USE sentences/titles, e5 "
         "leads of uncovered languages) + store; assign = the one clusterer from stored vectors."),
        "",
        common.md_table(
            ["run", "ingest s", "assign s", "total s", "art/s", "events", "same (event, story, family) as the first run",
             "same event / story / family", "driver peak RSS MB", "load avg at start"],
            [(f"{r['kind']} {r['workers']}", r.get("ingest_seconds", "–"), r.get("assign_seconds", "–"), r["seconds"],
              round(r["articles"] / r["seconds"], 2), r["events"],
              f"{r['same_assignment_as_first']}{' (identical)' if r['identical_to_first'] else ''}",
              f"{r['same_event_as_first']} / {r['same_story_as_first']} / {r['same_family_as_first']}",
              r["peak_rss_mb"], r["load_avg"]) for r in rows],
        ),
    ])
    common.write_results(args.out, payload, table)


if __name__ == "__main__":
    main()
