"""Online incremental clustering vs batch re-clustering of the whole archive, side by side.

**Quality (dev sets, real articles).** ECB+ dev and WMT21 dev are featurized as the pipeline
does (``prepare`` + ``FeatureBuilder`` with the USE encoder), each set on its own. Then:

* *online*: ``cluster_batch(OnlineClusterer(PairScorer()), feats)`` — the same ``learn_one``
  decisions in date order plus repair (the shipped scorer was fitted on these dev sets);
* *agglomerative*: scikit-learn ``AgglomerativeClustering(linkage="average",
  metric="cosine")`` on the same doc vectors, its ``distance_threshold`` **tuned on the dev
  sets** (one threshold for both sets, best mean B³ F1 over a grid) — optimistic;
* *hdbscan*: scikit-learn ``HDBSCAN`` on the unit doc vectors (euclidean, monotone in cosine),
  ``min_cluster_size`` / ``min_samples`` tuned on dev the same way; noise points
  are singletons.

B³ F1 from ``storyline.evaluate.metrics.bcubed``.

**Scale (perturbed replicas).** The archive is built from R replicas of the dev articles,
perturbed in text (see ``bench/common.py``; no dates, like the dev sets) and featurized with a
sentence-vector cache keyed by the sentence with its digits masked (shuffled / dropped /
duplicated sentences and changed numbers reuse the original sentence's USE vector, so only
the dev sentences are encoded — encoding is not what this benchmark measures). Every replica
r ≥ 1 is then made a *separate world*: all its vectors (doc, lead, sentences, second encoder)
are multiplied by a random orthogonal matrix Q_r (cosines inside the replica are kept, cosines
to other replicas become ≈ 0) and its names, numbers and terms get a ``#r`` suffix. So an
archive of R replicas holds R × (58 + 216) gold events with the dev sets' difficulty, and B³
F1 against the replicated gold is measurable at every size.

**Protocol.** Articles arrive in a fixed random order in chunks of 1,000. After every chunk a
user wants an up-to-date clustering of the whole archive:

* online: ``learn_one`` for each article of the chunk (in ``sort_key`` order) then
  ``repair(touched)`` from the events the chunk touched — what ``Pipeline.run`` /
  ``cluster_batch`` do per call since 5b249b6; cost = that chunk's time;
* batch: re-cluster the whole archive so far from scratch; cost = one full batch run at the
  archive's size (measured at the sizes in ``--sizes``).

Reported per size: online chunk time, online cumulative time, batch time, the speed-up
``batch time / online chunk time`` (target ≥ 10× at the largest size where batch fits in
memory), and B³ F1 of both against the replicated gold. Cumulative batch cost over all chunks
is interpolated from the measured sizes (power law), and labelled as such.

    python bench/online_vs_batch.py                       # 1k..10k (~25 min on 2 busy cores)
    python bench/online_vs_batch.py --sizes 1000,2000,5000,10000,20000
    python bench/online_vs_batch.py --sizes 1000,2000,5000 --no-hdbscan

Featurized inputs are cached in ``$TMPDIR/storyline-bench-cache`` (outside the repository: the
WMT texts must not be copied into it). Writes ``bench/results/online_vs_batch.json`` / ``.md``.
"""

from __future__ import annotations

import argparse
import math
import pickle
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

CACHE = Path(tempfile.gettempdir()) / "storyline-bench-cache"
_DIGIT = re.compile(r"\d")


class SentenceCacheEncoder:
    """USE with a per-sentence cache keyed by the sentence with its digits masked."""

    def __init__(self) -> None:
        from storyline.represent.encoder import USEEncoder

        self.inner = USEEncoder(threads=1)
        self.dim = self.inner.dim
        self.cache: dict[str, object] = {}
        self.encoded = 0

    def covers(self, lang: str) -> bool:
        return self.inner.covers(lang)

    def encode(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np

        keys = [_DIGIT.sub("0", t) for t in texts]
        todo = sorted({k for k in keys if k not in self.cache})
        if todo:
            vecs = self.inner.encode(todo)
            self.encoded += len(todo)
            for k, v in zip(todo, vecs, strict=True):
                self.cache[k] = v
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)


def featurize(rows: list[dict], encoder: SentenceCacheEncoder) -> list:
    from storyline.prepare.article import prepare
    from storyline.prepare.clean import RepeatedLineFilter
    from storyline.represent.builder import FeatureBuilder

    arts = common.to_articles(rows)
    repeated = RepeatedLineFilter()
    for a in arts:
        repeated.observe(a.source, a.text)
    processed = [prepare(a, repeated) for a in arts]
    builder = FeatureBuilder(encoder, None)
    builder.observe(processed)
    feats = []
    for start in range(0, len(processed), 128):
        feats.extend(builder.build(processed[start : start + 128]))
    return feats


def second_vectors(feats: list) -> None:
    """Second-encoder (e5) vectors for articles the first encoder does not cover, as the
    pipeline's ``LazySecondVectors`` would compute them."""
    from storyline.represent.encoder import E5Encoder

    todo = [f for f in feats if not f.covered]
    if not todo:
        return
    try:
        vecs = E5Encoder().encode([f.second_text or " " for f in todo])
    except Exception as exc:  # the e5 extra is optional
        print(f"  second encoder unavailable ({exc}); uncovered languages get none")
        return
    for f, v in zip(todo, vecs, strict=True):
        f.second = v


class _SavedFeatures:
    """An ArticleFeatures read from a cache written before the class had slots (its state was
    pickled as a dict, which a slotted class cannot take): :func:`adapt` rebuilds it."""

    def __setstate__(self, state):  # type: ignore[no-untyped-def]
        if isinstance(state, tuple):  # (dict or None, slots dict)
            merged = dict(state[0] or {})
            merged.update(state[1] or {})
            state = merged
        self.state = state

    def features(self):  # type: ignore[no-untyped-def]
        from dataclasses import fields

        from storyline.represent.features import ArticleFeatures

        names = {fl.name for fl in fields(ArticleFeatures)}
        return ArticleFeatures(**{k: v for k, v in self.state.items() if k in names})


class _CacheUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        if module == "storyline.represent.features" and name == "ArticleFeatures":
            return _SavedFeatures
        return super().find_class(module, name)


def adapt(f):  # type: ignore[no-untyped-def]
    """Features in the library's current representation (terms, kept sentence rows/dtype)."""
    if isinstance(f, _SavedFeatures):
        f = f.features()
    terms = common.terms_repr(f.terms) if isinstance(f.terms, dict) else f.terms
    sents = None if f.sents is None else common.sents_repr(f.sents)
    return replace(f, doc=common.vec_repr(f.doc), lead=common.vec_repr(f.lead), terms=terms, sents=sents)


def suffix_terms(terms, r: int):  # type: ignore[no-untyped-def]
    """Make replica r's terms disjoint from other replicas' (dict or (hash, weight) arrays)."""
    if isinstance(terms, dict):
        return {f"{k}#{r}": v for k, v in terms.items()}
    import numpy as np

    ids, vals = terms
    # term hashes are crc32 (< 2**32, uint32 since 8d30f15): stays sorted and unique in int64
    return ids.astype(np.int64) + (r << 33), vals


def build_inputs(max_size: int) -> dict:
    """Dev features per set, and the scale archive (replica worlds), cached on disk."""
    import numpy as np

    n_rep = math.ceil(max_size / len(common.dev_rows()))
    path = CACHE / f"feats_v2_r{n_rep}.pkl"
    bigger = sorted(CACHE.glob("feats_v2_r*.pkl"), key=lambda p: int(p.stem.split("_r")[-1]))
    bigger = [p for p in bigger if int(p.stem.split("_r")[-1]) >= n_rep]
    if bigger:  # a cache of more replicas holds these ones first
        with bigger[0].open("rb") as fh:
            data = _CacheUnpickler(fh).load()
        n_art = n_rep * len(common.dev_rows())
        data["scale"] = data["scale"][:n_art]
        # the cache may predate a change of representation in the library: adapt it
        data["dev"] = {k: [adapt(f) for f in v] for k, v in data["dev"].items()}
        data["scale"] = [adapt(f) for f in data["scale"]]
        return data
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    enc = SentenceCacheEncoder()
    dev = {}
    for name in common.DEV_SETS:
        feats = featurize(common.dev_rows([name]), enc)
        second_vectors(feats)
        dev[name] = feats
    print(f"  dev featurized in {time.perf_counter() - t0:.0f} s ({enc.encoded} sentences encoded)", flush=True)
    second_of = {f.id: f.second for fs in dev.values() for f in fs if f.second is not None}
    gold = common.dev_gold()
    rng = random.Random(29)
    nrng = np.random.default_rng(29)
    base = common.dev_rows()
    scale, scale_gold = [], {}
    for r in range(n_rep):
        rows = [common.perturb_row(row, r, rng) for row in base]
        for row in rows:
            row.pop("published", None)  # no dates, like the dev sets
        feats = featurize(rows, enc)
        if r == 0:
            q, q2 = None, None
        else:
            q = np.linalg.qr(nrng.standard_normal((512, 512)))[0].astype(np.float32)
            q2 = np.linalg.qr(nrng.standard_normal((384, 384)))[0].astype(np.float32)
        for row, f in zip(rows, feats, strict=True):
            sec = second_of.get(row["_orig"])
            if q is not None:
                sfx = f"#{r}"
                f = replace(
                    f,
                    doc=f.doc @ q,
                    lead=f.lead @ q,
                    sents=None if f.sents is None else (f.sents.astype(np.float32) @ q).astype(f.sents.dtype),
                    terms=suffix_terms(f.terms, r),
                    names=frozenset(k + sfx for k in f.names),
                    numbers=frozenset(k + sfx for k in f.numbers),
                    second=None if sec is None else sec @ q2,
                )
            else:
                f.second = sec
            scale.append(f)
            scale_gold[f.id] = f"{gold[row['_orig']]}#{r}"
        print(f"  replica {r + 1}/{n_rep} featurized ({time.perf_counter() - t0:.0f} s, "
              f"{enc.encoded} sentences encoded so far)", flush=True)
    out = {"dev": dev, "gold": gold, "scale": scale, "scale_gold": scale_gold, "encoded": enc.encoded,
           "featurize_seconds": round(time.perf_counter() - t0, 1)}
    with path.open("wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return out


# -- methods ---------------------------------------------------------------------------------------
INDEX_UPDATE: str | None = None  # --index-update: CentroidIndex update strategy, None = the library's


def new_online():  # type: ignore[no-untyped-def]
    from storyline.cluster.online import OnlineClusterer
    from storyline.cluster.scorer import PairScorer

    clu = OnlineClusterer(PairScorer(second=lambda f: f.second))
    if INDEX_UPDATE:
        from storyline.cluster.index import CentroidIndex

        clu.index_ = CentroidIndex(clu.dim, update=INDEX_UPDATE)
    return clu


def agglomerative(x, threshold: float):  # type: ignore[no-untyped-def]
    from sklearn.cluster import AgglomerativeClustering

    if len(x) < 2:
        return [0] * len(x)
    m = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold)
    return m.fit_predict(x).tolist()


def hdbscan(x, params: tuple[int, float]):  # type: ignore[no-untyped-def]
    from sklearn.cluster import HDBSCAN

    mcs, ms = params
    lab = HDBSCAN(min_cluster_size=mcs, min_samples=ms, metric="euclidean", algorithm="auto").fit_predict(x)
    nxt = int(lab.max()) + 1
    out = []
    for v in lab.tolist():  # noise → singletons
        if v < 0:
            out.append(nxt)
            nxt += 1
        else:
            out.append(v)
    return out


def b3(ids: list[str], labels, gold: dict[str, str]) -> float:  # type: ignore[no-untyped-def]
    from storyline.evaluate.metrics import bcubed

    return round(bcubed(dict(zip(ids, labels, strict=True)), {i: gold[i] for i in ids}).f1, 4)


def doc_matrix(feats: list):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.stack([f.doc for f in feats]).astype(np.float32)


def dev_quality(data: dict, use_hdbscan: bool) -> dict:
    from storyline.cluster.batch import cluster_batch

    gold = data["gold"]
    out: dict = {"online": {}, "agglomerative": {}, "hdbscan": {}}
    for name, feats in data["dev"].items():
        ids = [f.id for f in feats]
        t = time.perf_counter()
        got = cluster_batch(new_online(), feats)
        out["online"][name] = {"b3_f1": b3(ids, [got[i] for i in ids], gold), "seconds": round(time.perf_counter() - t, 2)}
    grid = [round(0.05 + 0.025 * i, 3) for i in range(31)]  # 0.05 … 0.80
    scores = defaultdict(dict)
    for name, feats in data["dev"].items():
        ids, x = [f.id for f in feats], doc_matrix(feats)
        for th in grid:
            scores[th][name] = b3(ids, agglomerative(x, th), gold)
    best = max(grid, key=lambda th: (sum(scores[th].values()), -th))
    out["agglomerative"] = {"threshold": best, **{n: {"b3_f1": scores[best][n]} for n in data["dev"]},
                            "per_set_best": {n: max(scores[t][n] for t in grid) for n in data["dev"]},
                            "grid": {str(k): v for k, v in scores.items()}}
    if use_hdbscan:
        # cluster_selection_epsilon > 0 crashes in scikit-learn 1.9.1 with numpy 2.4
        # (TypeError in _tree.epsilon_search), so the grid is over min_samples instead
        hgrid = [(m, s) for m in (2, 3) for s in (1, 2, 3)]
        hs = defaultdict(dict)
        for name, feats in data["dev"].items():
            ids, x = [f.id for f in feats], doc_matrix(feats)
            for p in hgrid:
                hs[p][name] = b3(ids, hdbscan(x, p), gold)
        hb = max(hgrid, key=lambda p: sum(hs[p].values()))
        out["hdbscan"] = {"params": {"min_cluster_size": hb[0], "min_samples": hb[1]},
                          **{n: {"b3_f1": hs[hb][n]} for n in data["dev"]}}
    return out


def scale_run(data: dict, sizes: list[int], chunk: int, agg_th: float, hdb: tuple[int, float] | None,
              hdb_max: int) -> list[dict]:
    import numpy as np

    from storyline.cluster.batch import sort_key

    feats = list(data["scale"])
    random.Random(5).shuffle(feats)
    gold = data["scale_gold"]
    top = max(sizes)
    feats = feats[:top]
    clu = new_online()
    rows = []
    cum = 0.0
    chunk_times = {}
    for start in range(0, top, chunk):
        part = sorted(feats[start : start + chunk], key=sort_key)
        h0, m0 = clu.pairs_.hits_, clu.pairs_.misses_
        t = time.perf_counter()
        for f in part:
            clu.learn_one(f)
        t_learn = time.perf_counter() - t
        # repair from the events this chunk touched, as cluster_batch / Pipeline.run do since 5b249b6
        clu.repair({clu.event_of_[f.id] for f in part})
        dt_chunk = time.perf_counter() - t
        cum += dt_chunk
        n = start + len(part)
        chunk_times[n] = dt_chunk
        print(f"  online: {n} articles, chunk {dt_chunk:.1f} s (learn_one {t_learn:.1f} s), cumulative {cum:.1f} s, "
              f"{clu.n_events_} events", flush=True)
        if n in sizes:
            ids = [f.id for f in feats[:n]]
            row = {
                "size": n,
                "online_chunk_seconds": round(dt_chunk, 2),
                "online_chunk_learn_one_seconds": round(t_learn, 2),
                "online_chunk_repair_seconds": round(dt_chunk - t_learn, 2),
                "online_cumulative_seconds": round(cum, 2),
                "online_events": clu.n_events_,
                "online_pair_cache_hits": clu.pairs_.hits_,
                "online_pair_cache_misses": clu.pairs_.misses_,
                "online_chunk_pair_cache_hit_rate": (
                    round((clu.pair_hits_ - h0) / max(1, clu.pair_hits_ - h0 + clu.pair_misses_ - m0), 3)
                    if hasattr(clu, "pair_hits_") else None),
                "online_index_points": getattr(clu.index_, "_next", None),
                "online_b3_f1": b3(ids, [clu.event_of_[i] for i in ids], gold),
                "rss_mb": round(common.rss_mb(), 0),
            }
            x = doc_matrix(feats[:n])
            t = time.perf_counter()
            lab = agglomerative(x, agg_th)
            row["agglomerative_seconds"] = round(time.perf_counter() - t, 2)
            row["agglomerative_b3_f1"] = b3(ids, lab, gold)
            row["agglomerative_speedup"] = round(row["agglomerative_seconds"] / dt_chunk, 2)
            row["agglomerative_speedup_vs_learn_one_only"] = round(row["agglomerative_seconds"] / t_learn, 2)
            row["peak_rss_mb_after_agglomerative"] = round(common.peak_rss_mb(), 0)
            if hdb is not None and n <= hdb_max:
                t = time.perf_counter()
                lab = hdbscan(x, hdb)
                row["hdbscan_seconds"] = round(time.perf_counter() - t, 2)
                row["hdbscan_b3_f1"] = b3(ids, lab, gold)
                row["hdbscan_speedup"] = round(row["hdbscan_seconds"] / dt_chunk, 2)
            print(f"  batch at {n}: {row}", flush=True)
            rows.append(row)
    # cumulative batch cost if re-run after every chunk: power law through the measured sizes
    if len(rows) >= 2:
        xs = np.log([r["size"] for r in rows])
        ys = np.log([r["agglomerative_seconds"] for r in rows])
        b, a = np.polyfit(xs, ys, 1)
        for r in rows:
            r["agglomerative_cumulative_seconds_interpolated"] = round(
                float(sum(math.exp(a) * m**b for m in range(chunk, r["size"] + 1, chunk))), 1)
            r["cumulative_speedup_interpolated"] = round(
                r["agglomerative_cumulative_seconds_interpolated"] / r["online_cumulative_seconds"], 1)
        rows[-1]["agglomerative_power_law_exponent"] = round(float(b), 2)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,2000,5000,10000")
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--no-hdbscan", action="store_true")
    ap.add_argument("--hdbscan-max", type=int, default=10000, help="largest size HDBSCAN is timed at")
    ap.add_argument("--out", default="online_vs_batch")
    ap.add_argument("--index-update", choices=["reinsert", "in_place"], default=None,
                    help="CentroidIndex update strategy (default: the library's)")
    args = ap.parse_args()
    global INDEX_UPDATE
    INDEX_UPDATE = args.index_update
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print("[online_vs_batch] featurizing (cached after the first run) …", flush=True)
    data = build_inputs(max(sizes))
    print("[online_vs_batch] dev quality …", flush=True)
    q = dev_quality(data, not args.no_hdbscan)
    print(f"  {q['online']}  agglomerative th={q['agglomerative']['threshold']}", flush=True)
    hp = None
    if not args.no_hdbscan:
        hp = (q["hdbscan"]["params"]["min_cluster_size"], q["hdbscan"]["params"]["min_samples"])
    print("[online_vs_batch] scale …", flush=True)
    rows = scale_run(data, sizes, args.chunk, q["agglomerative"]["threshold"], hp, args.hdbscan_max)
    payload = {
        "benchmark": "online_vs_batch",
        "inputs": "dev sets for quality; replica worlds of perturbed dev articles for scale (see module doc). "
        + common.PERTURBATION.replace("published dates spread uniformly over 2023", "no dates"),
        "machine": common.machine(),
        "protocol": "chunks of %d articles; online = learn_one over the chunk + repair(events the chunk touched); batch = full "
        "re-cluster of the archive so far; speed-up = batch seconds / online chunk seconds" % args.chunk,
        "dev_quality": {k: {kk: vv for kk, vv in v.items() if kk != "grid"} for k, v in q.items()},
        "dev_agglomerative_grid": q["agglomerative"].get("grid"),
        "featurize_seconds": data.get("featurize_seconds"),
        "sentences_encoded": data.get("encoded"),
        "scale": rows,
    }
    dq = payload["dev_quality"]
    sets = list(data["dev"])
    qrows = [("online (storyline, shipped scorer)", *[dq["online"][s]["b3_f1"] for s in sets], "scorer fitted on dev")]
    qrows.append((f"agglomerative average-link, cosine ≤ {dq['agglomerative']['threshold']}",
                  *[dq["agglomerative"][s]["b3_f1"] for s in sets], "threshold tuned on dev"))
    if dq.get("hdbscan"):
        qrows.append((f"HDBSCAN {dq['hdbscan']['params']}", *[dq["hdbscan"][s]["b3_f1"] for s in sets], "tuned on dev"))
    srows = []
    for r in rows:
        srows.append((
            r["size"], f"{r['online_chunk_seconds']} ({r['online_chunk_learn_one_seconds']} + {r['online_chunk_repair_seconds']})",
            r["online_cumulative_seconds"], r["agglomerative_seconds"],
            f"{r['agglomerative_speedup']}× ({r['agglomerative_speedup_vs_learn_one_only']}×)", r.get("hdbscan_seconds", "–"),
            f"{r['hdbscan_speedup']}×" if "hdbscan_speedup" in r else "–",
            r["online_b3_f1"], r["agglomerative_b3_f1"], r.get("hdbscan_b3_f1", "–"),
            r.get("agglomerative_cumulative_seconds_interpolated", "–"), r["peak_rss_mb_after_agglomerative"],
            r.get("online_chunk_pair_cache_hit_rate", "–"),
        ))
    table = "\n".join([
        "### Online vs batch re-clustering",
        "",
        "Quality on the dev sets (B³ F1, `storyline.evaluate.metrics.bcubed`):",
        "",
        common.md_table(["method", *sets, "note"], qrows),
        "",
        f"Scale: replica worlds of perturbed dev articles (no dates; see `bench/online_vs_batch.py`), "
        f"arriving in chunks of {args.chunk}. After each chunk: online = `learn_one` over the chunk + `repair(touched events)`; "
        "batch = re-cluster the whole archive. Speed-up = batch time / online chunk time (target ≥ 10×). "
        "B³ F1 against the replicated gold.",
        "",
        common.md_table(
            ["archive", "online chunk s (learn_one + repair)", "online cumulative s", "agglo s",
             "online speed-up vs agglo (learn_one only)", "hdbscan s",
             "hdbscan speed-up", "online B³", "agglo B³", "hdbscan B³", "agglo every chunk, cumulative s (interp.)",
             "peak RSS MB", "pair-cache hit rate (chunk)"],
            srows,
        ),
    ])
    common.write_results(args.out, payload, table)


if __name__ == "__main__":
    main()
