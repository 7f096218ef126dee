"""Assignment latency of ``OnlineClusterer.learn_one`` (encoding excluded) vs clusterer size.

For each N in ``--events`` a fresh interpreter:

1. builds synthetic :class:`ArticleFeatures` for N events (see ``synth`` below): unit doc /
   lead / sentence vectors clustered around event centroids that share topic directions and a
   global direction (so unrelated articles have cosines ≈ 0.2–0.4 like USE vectors, same-event
   ≈ 0.8), Zipf-distributed common names / terms plus event-specific ones, numbers, years,
   languages (60 % en), event dates spread over two years, 4–16 sentence vectors per article;
   70 % of events have one article, 30 % two;
2. grows an ``OnlineClusterer`` (shipped scorer) to N events with ``restore`` (the same
   ``_add`` that ``learn_one`` ends in; it is how ``Pipeline`` reopens a store) — or with
   ``learn_one`` itself (``--grow learn_one``; slow beyond 10k);
3. times ``learn_one`` on 500 fresh probe articles (250 that belong to an existing event, so
   they join and trigger ``_repair_around``; 250 of new events), in random order.

Reports p50 / p95 / p99 / max per size and per probe kind, and memory: RSS growth while
building the features and while growing the clusterer, per event and per article.
Target: p99 at 100k events ≤ 1.5 × p99 at 1k.

    python bench/latency.py                         # 1000,10000,100000 (~6 min, ~6 GB peak)
    python bench/latency.py --events 1000,10000 --profile   # + cProfile of the probes

Writes ``bench/results/latency.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

DIM = 512
N_TOPICS = 300
LANGS = ["en"] * 6 + ["de", "fr", "ru", "ja"]


class Synth:
    """Deterministic generator of realistic-looking ArticleFeatures."""

    def __init__(self, seed: int = 7) -> None:
        import numpy as np

        self.np = np
        self.rng = np.random.default_rng(seed)
        self.prng = random.Random(seed)
        g = self.rng.standard_normal(DIM)
        self.g = g / np.linalg.norm(g)
        t = self.rng.standard_normal((N_TOPICS, DIM))
        self.topics = t / np.linalg.norm(t, axis=1, keepdims=True)
        self.common_names = [f"name{i}" for i in range(20000)]
        self.common_terms = [f"term{i}" for i in range(60000)]
        self.day0 = dt.date(2022, 1, 1)

    def _unit(self, x):  # type: ignore[no-untyped-def]
        n = self.np.linalg.norm(x, axis=-1, keepdims=True)
        return (x / n).astype(self.np.float32)

    def _zipf(self, pool: list[str], k: int) -> set[str]:
        idx = self.rng.zipf(1.3, size=k * 2)
        return {pool[(i - 1) % len(pool)] for i in idx[:k]}

    def event(self, ev: int) -> dict:
        np = self.np
        topic = self.topics[self.rng.integers(N_TOPICS)]
        own = self.rng.standard_normal(DIM)
        own /= np.linalg.norm(own)
        center = 0.55 * self.g + 0.6 * topic + 0.9 * own
        return {
            "ev": ev,
            "center": center / np.linalg.norm(center),
            "names": {f"ev{ev}n{j}" for j in range(3)} | self._zipf(self.common_names, 3),
            "numbers": {str(self.rng.integers(10, 100000)) for _ in range(3)},
            "terms": [f"ev{ev}t{j}" for j in range(40)],
            "date": self.day0 + dt.timedelta(days=int(self.rng.integers(0, 730))),
            "lang": self.prng.choice(LANGS),
        }

    def article(self, e: dict, aid: str):  # type: ignore[no-untyped-def]
        from storyline.represent.features import ArticleFeatures

        np = self.np
        n_s = int(self.rng.integers(4, 17))  # encoded sentences; the kept rows follow the library
        sents = self._unit(e["center"][None, :] + 2.0 * self.rng.standard_normal((n_s, DIM)) / np.sqrt(DIM))
        w = np.ones(n_s, np.float32)
        w[:3] = 2.0
        doc = self._unit((sents * w[:, None]).sum(0))
        lead = self._unit(sents[:2].sum(0) + 1.0 * self.rng.standard_normal(DIM) / np.sqrt(DIM))
        terms_k = list(self._zipf(self.common_terms, 110)) + self.prng.sample(e["terms"], 30)
        # fresh str objects, as fold() makes per article in the real pipeline
        raw = {"".join(t): float(v) for t, v in zip(terms_k, self.rng.random(len(terms_k)) + 0.1)}
        norm = float(np.sqrt(sum(v * v for v in raw.values())))
        terms = common.terms_repr({t: v / norm for t, v in raw.items()})
        sents = common.sents_repr(sents)
        names = set(self.prng.sample(sorted(e["names"]), min(4, len(e["names"])))) | self._zipf(self.common_names, 4)
        nums = set(self.prng.sample(sorted(e["numbers"]), 2)) | {str(self.rng.integers(10, 2000))}
        date = e["date"] + dt.timedelta(days=int(self.rng.integers(0, 3)))
        return ArticleFeatures(
            id=aid,
            lang=e["lang"],
            date=date,
            doc=common.vec_repr(doc),
            lead=common.vec_repr(lead),
            terms=terms,
            names=frozenset(names),
            numbers=frozenset(nums),
            covered=True,
            length=int(self.rng.integers(800, 6000)),
            sents=sents,
            second_text="",
            key=aid,
            years=frozenset({str(date.year)}),
        )


def deep_size(f) -> int:  # type: ignore[no-untyped-def]
    """Approximate bytes held by one ArticleFeatures (arrays, dict, sets, strings)."""
    s = sys.getsizeof(f) + sys.getsizeof(getattr(f, "__dict__", {}))  # slots since 8d30f15: no __dict__
    s += sum(sys.getsizeof(a) for a in (f.doc, f.lead, f.sents) if a is not None)
    if isinstance(f.terms, dict):
        s += sys.getsizeof(f.terms) + sum(sys.getsizeof(k) + 24 for k in f.terms)
    else:
        s += sum(sys.getsizeof(a) for a in f.terms) + 64
    for fs in (f.names, f.numbers, f.years):
        s += sys.getsizeof(fs) + sum(sys.getsizeof(k) for k in fs)
    return s


def index_recall(clu, n_queries: int = 200, k: int = 10, seed: int = 0) -> float:  # type: ignore[no-untyped-def]
    """recall@k of the clusterer's centroid index for its own event centroids, against an exact
    search over the vectors it holds (ANN quality alone, not staleness of the centroids)."""
    import numpy as np

    if not hasattr(clu.index_, "vectors"):
        return float("nan")
    keys, vecs = clu.index_.vectors()
    rng = np.random.default_rng(seed)
    hits = 0
    picks = rng.choice(len(keys), min(n_queries, len(keys)), replace=False)
    for i in picks:
        c = clu.centroid(keys[i]).astype(np.float32)
        got = {e for e, _ in clu.index_.query(c, k)}
        hits += len(got & {keys[j] for j in np.argsort(-(vecs @ c))[:k]})
    return round(hits / (len(picks) * min(k, len(keys))), 4)


def child(n_events: int, probes: int, grow: str, profile: str | None, seed: int,
          index_update: str | None = None) -> dict:
    import gc

    from storyline.cluster.online import OnlineClusterer
    from storyline.cluster.scorer import PairScorer

    clu = OnlineClusterer(PairScorer(second=None))
    if index_update:  # hnswlib update strategy (storyline.cluster.index.CentroidIndex)
        from storyline.cluster.index import CentroidIndex

        clu.index_ = CentroidIndex(clu.dim, update=index_update)
    syn = Synth(seed)
    gc.collect()
    rss0 = common.rss_mb()
    t0 = time.perf_counter()
    events = [syn.event(i) for i in range(n_events)]
    feats = []
    for e in events:
        k = 2 if syn.prng.random() < 0.3 else 1
        for j in range(k):
            feats.append(syn.article(e, f"a{e['ev']}_{j}"))
    feats.sort(key=lambda f: (f.date, f.id))
    gen_s = time.perf_counter() - t0
    gc.collect()
    rss1 = common.rss_mb()
    t0 = time.perf_counter()
    for f in feats:
        if grow == "restore":
            clu.restore(f, f"ev{f.id.split('_')[0][1:]}")
        else:
            clu.learn_one(f)
    grow_s = time.perf_counter() - t0
    gc.collect()
    rss2 = common.rss_mb()
    # probes: half join existing events (the join + _repair_around path), half are new events
    order = list(range(probes))
    syn.prng.shuffle(order)
    probe_feats = []
    for i in order:
        if i % 2 == 0:
            e = events[int(syn.rng.integers(len(events)))]
            probe_feats.append(("join", syn.article(e, f"p{i}")))
        else:
            e = syn.event(n_events + i)
            probe_feats.append(("new", syn.article(e, f"p{i}")))
    # warm up (lazy depth computation, caches) on copies that are not part of the state
    times: dict[str, list[float]] = {"join": [], "new": []}
    cpu: dict[str, list[float]] = {"join": [], "new": []}
    # thread CPU time spent in the ANN index (queries and inserts) during each probe
    in_index = [0.0]
    index_cpu: list[float] = []
    idx = clu.index_

    def timed(fn):  # type: ignore[no-untyped-def]
        def call(*a, **k):  # type: ignore[no-untyped-def]
            c0 = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                in_index[0] += time.thread_time() - c0
        return call

    idx.upsert, idx.query = timed(idx.upsert), timed(idx.query)
    joined = 0
    n_before = clu.n_events_
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    for kind, f in probe_feats:
        in_index[0] = 0.0
        c = time.thread_time()
        t = time.perf_counter()
        ev, _score = clu.learn_one(f)
        times[kind].append((time.perf_counter() - t) * 1000.0)
        cpu[kind].append((time.thread_time() - c) * 1000.0)
        index_cpu.append(in_index[0] * 1000.0)
        joined += int(ev in clu.members_ and len(clu.members_[ev]) > 1)
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    del idx.upsert, idx.query  # the instance wrappers
    allt = times["join"] + times["new"]
    allc = cpu["join"] + cpu["new"]
    # the same probes in probe order, split into index time and the rest
    order_c = [0.0] * len(probe_feats)
    seen = {"join": 0, "new": 0}
    for n, (kind, _f) in enumerate(probe_feats):
        order_c[n] = cpu[kind][seen[kind]]
        seen[kind] += 1
    rest = [c - i for c, i in zip(order_c, index_cpu, strict=True)]
    sizes = [deep_size(f) for f in feats[:2000]]
    return {
        "events": n_events,
        "articles": len(feats),
        "grow": grow,
        "events_after_growth": n_before,
        "probes": probes,
        "probes_joined": joined,
        "merges_during_probes": len(clu.merges_),
        "generate_seconds": round(gen_s, 1),
        "grow_seconds": round(grow_s, 1),
        "latency_ms": {
            "p50": round(common.percentile(allt, 50), 3),
            "p95": round(common.percentile(allt, 95), 3),
            "p99": round(common.percentile(allt, 99), 3),
            "max": round(max(allt), 3),
            "mean": round(sum(allt) / len(allt), 3),
        },
        "cpu_ms": {
            "p50": round(common.percentile(allc, 50), 3),
            "p95": round(common.percentile(allc, 95), 3),
            "p99": round(common.percentile(allc, 99), 3),
            "max": round(max(allc), 3),
            "mean": round(sum(allc) / len(allc), 3),
        },
        "index_cpu_ms": {"p50": round(common.percentile(index_cpu, 50), 3),
                         "p99": round(common.percentile(index_cpu, 99), 3)},
        "rest_cpu_ms": {"p50": round(common.percentile(rest, 50), 3), "p99": round(common.percentile(rest, 99), 3)},
        "cpu_ms_by_kind": {
            k: {"p50": round(common.percentile(v, 50), 3), "p99": round(common.percentile(v, 99), 3)}
            for k, v in cpu.items()
        },
        "latency_ms_by_kind": {
            k: {"p50": round(common.percentile(v, 50), 3), "p99": round(common.percentile(v, 99), 3)}
            for k, v in times.items()
        },
        "rss_mb": {"start": round(rss0, 1), "features": round(rss1, 1), "grown": round(rss2, 1)},
        "features_kb_per_article_rss": round((rss1 - rss0) * 1024 / len(feats), 2),
        "features_kb_per_article_deep": round(sum(sizes) / len(sizes) / 1024, 2),
        "clusterer_kb_per_event_rss": round((rss2 - rss1) * 1024 / n_events, 2),
        "total_kb_per_event_rss": round((rss2 - rss0) * 1024 / n_events, 2),
        "peak_rss_mb": round(common.peak_rss_mb(), 1),
        "index_update": getattr(clu.index_, "update", "in_place"),
        "index_points": getattr(clu.index_, "_next", None),
        "index_recall_at_10": index_recall(clu),
        "pair_cache_hits": clu.pairs_.hits_,
        "pair_cache_misses": clu.pairs_.misses_,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", default="1000,10000,100000")
    ap.add_argument("--probes", type=int, default=500)
    ap.add_argument("--grow", choices=["restore", "learn_one"], default="restore")
    ap.add_argument("--profile", action="store_true", help="cProfile the probes at the largest size")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="latency")
    ap.add_argument("--index-update", choices=["reinsert", "in_place"], default=None,
                    help="CentroidIndex update strategy (default: the library's)")
    ap.add_argument("--_child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_profile_to", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child is not None:
        print(json.dumps(child(args._child, args.probes, args.grow, args._profile_to, args.seed, args.index_update)))
        return
    sizes = [int(s) for s in args.events.split(",") if s]
    results = []
    profile_md = ""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="storyline-lat-") as tmp:
        for n in sizes:
            print(f"[latency] {n} events …", flush=True)
            argv = [__file__, "--_child", str(n), "--probes", str(args.probes), "--grow", args.grow, "--seed", str(args.seed)]
            if args.index_update:
                argv += ["--index-update", args.index_update]
            res = common.run_child(argv)
            print(f"  wall {res['latency_ms']}  cpu {res['cpu_ms']}  peak {res['peak_rss_mb']} MB", flush=True)
            results.append(res)
        if args.profile:
            from throughput import profile_table

            prof = str(Path(tmp) / "probes.prof")
            common.run_child([__file__, "--_child", str(sizes[-1]), "--probes", str(args.probes), "--grow", args.grow,
                              "--seed", str(args.seed), "--_profile_to", prof]
                             + (["--index-update", args.index_update] if args.index_update else []))
            profile_md = f"cProfile of the {args.probes} probes at {sizes[-1]} events (extra run):\n\n" + profile_table(Path(prof), 20)
    base = results[0]["cpu_ms"]["p99"]
    wbase = results[0]["latency_ms"]["p99"]
    payload = {
        "benchmark": "latency",
        "inputs": "synthetic ArticleFeatures (see module doc); encoding excluded",
        "machine": common.machine(),
        "results": results,
        "p99_cpu_ratio_largest_vs_smallest": round(results[-1]["cpu_ms"]["p99"] / base, 3),
        "p99_wall_ratio_largest_vs_smallest": round(results[-1]["latency_ms"]["p99"] / wbase, 3),
    }
    rows = [
        (
            r["events"],
            f"{r['cpu_ms']['p50']} ({r['latency_ms']['p50']})",
            f"{r['cpu_ms']['p99']} ({r['latency_ms']['p99']})",
            f"**{round(r['cpu_ms']['p99'] / base, 2)}** ({round(r['latency_ms']['p99'] / wbase, 2)})",
            f"{r['cpu_ms_by_kind']['join']['p50']} / {r['cpu_ms_by_kind']['join']['p99']}",
            f"{r['cpu_ms_by_kind']['new']['p50']} / {r['cpu_ms_by_kind']['new']['p99']}",
            f"{r['index_cpu_ms']['p50']} / {r['index_cpu_ms']['p99']}",
            f"{r['rest_cpu_ms']['p50']} / {r['rest_cpu_ms']['p99']}",
            r["total_kb_per_event_rss"],
            r["clusterer_kb_per_event_rss"],
            r["peak_rss_mb"],
            r.get("index_recall_at_10", "–"),
        )
        for r in results
    ]
    table = "\n".join(
        [
            f"### Assignment latency (`OnlineClusterer.learn_one`, encoding excluded, {args.probes} probes)",
            "",
            f"Synthetic features; clusterer grown with `{args.grow}`; 70 % one-article events, 30 % two. "
            "CPU = thread CPU time of each call (robust to the shared machine's load); wall in brackets.",
            "",
            common.md_table(
                ["events", "p50 CPU ms (wall)", "p99 CPU ms (wall)", "p99 / p99@smallest, CPU (wall); target ≤ 1.5",
                 "join p50/p99 CPU", "new p50/p99 CPU", "in the ANN index p50/p99 CPU",
                 "outside it p50/p99 CPU",
                 "KB per event (features + clusterer)", "of which clusterer", "peak RSS MB",
                 "index recall@10"],
                rows,
            ),
        ]
    )
    if profile_md:
        table += "\n\n" + profile_md
    common.write_results(args.out, payload, table)


if __name__ == "__main__":
    main()
