"""Fit the graded similarity model (``src/storyline/data/similarity.npz``) and report it.

    PYTHONPATH=src python scripts/train_similarity.py [--data ../shared/data] [--cache DIR]
        [--features FILE.npz] [--no-save] [--no-gate] [--raw-only]

1. SemEval-2022 Task 8 training pairs (``semeval_train.jsonl``): the product's own graded
   features (:meth:`storyline.cluster.similarity.Similarity.featurize`), target 5 - overall,
   for each way of reading articles with e5 among the candidates (``similarity_cv.py``), plus
   translation pairs (two versions of one article, target 4) for the training side.
2. Nested grouped 5-fold cross-validation: groups = connected components of the article graph
   (ids with their machine-translation suffix stripped), so no article is on both sides of a
   fold. In each outer fold the candidate is chosen by an inner grouped CV on the training
   folds, then fitted there. Pearson r of the outer-fold predictions overall, per language
   pair and on the pairs without a machine-translated side, beside the plain USE and e5
   cosines of title + text on the same pairs, with a bootstrap interval of the difference
   wherever the model is below a plain cosine.
3. The date curve from the Gun Violence Archive dev gold (``gva_dev``: dated reports, events
   = episodes of incidents): the share of same-event pairs published at least g days apart,
   relative to that share at 2 days, made non-increasing. SemEval pairs have no dates, so
   dates cannot be fitted there; the curve is fitted on other data and only applied.
4. The candidate chosen by the same grouped CV over all pairs, refitted on all pairs, saved
   with the curve.

Before 2., each candidate fitted on all pairs scores graded pairs from the ECB+ and WMT21 dev
sets (translation / same event / same topic / unrelated); candidates whose mean scores break
that order are left out (``--no-gate``: keep all).

Encoder outputs are cached per text in ``--cache`` (default: a folder in the temp dir);
``--features`` keeps the featurized pairs in one file (delete it after changing features).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

sys.path.insert(0, str(REPO / "scripts"))

import similarity_cv as cv

from storyline.cluster.graded import MODEL_INPUTS, e5_text
from storyline.cluster.similarity import Pair, Similarity, pair_from_record, whole_text
from storyline.prepare.article import prepare
from storyline.represent.encoder import E5Encoder, USEEncoder

GRACE_DAYS = 2.0


class DiskCache:
    """An encoder with its vectors cached per text in one ``.npz`` file per encoder."""

    def __init__(self, inner, folder: Path) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.path = folder / f"{inner.name}.npz"
        self.vec: dict[str, np.ndarray] = {}
        if self.path.exists():
            z = np.load(self.path)
            self.vec = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
        self.dirty = False

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode(self, texts):  # type: ignore[no-untyped-def]
        todo = sorted({t for t in texts if self.key(t) not in self.vec})
        if todo:
            print(f"  encoding {len(todo)} texts with {self.name}", file=sys.stderr, flush=True)
            for t, v in zip(todo, self.inner.encode(todo), strict=True):
                self.vec[self.key(t)] = np.asarray(v, np.float32)
            self.dirty = True
            self.save()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.vec[self.key(t)] for t in texts])

    def covers(self, lang: str) -> bool:
        return self.inner.covers(lang)

    def save(self) -> None:
        if self.dirty:
            keys = list(self.vec)
            np.savez(self.path, keys=np.array(keys), vecs=np.stack([self.vec[k] for k in keys]))
            self.dirty = False


def base_id(article_id: str) -> str:
    """The id without its machine-translation language suffix (``1484039360it`` -> ``1484039360``)."""
    return re.sub(r"[a-z]+$", "", str(article_id))


def components(rows: list[dict]) -> np.ndarray:
    """Group of each pair: the connected component of its two (base) articles."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in rows:
        parent[find(base_id(r["id1"]))] = find(base_id(r["id2"]))
    roots = [find(base_id(r["id1"])) for r in rows]
    index = {r: i for i, r in enumerate(dict.fromkeys(roots))}
    return np.array([index[r] for r in roots])


def translation_pairs(rows: list[dict], groups: np.ndarray) -> tuple[list[dict], np.ndarray]:
    """Extra training pairs: two versions of one article (the original and its machine
    translations, or two translations), target 4 = very similar on every dimension. SemEval
    pairs hold no such pair, so without them the model has never seen a translation. Each is
    in the group of its article, so it stays on that article's side of every fold."""
    versions: dict[str, dict[str, dict]] = defaultdict(dict)
    group_of: dict[str, int] = {}
    for r, g in zip(rows, groups, strict=True):
        for s in "12":
            b = base_id(r[f"id{s}"])
            versions[b][r[f"id{s}"]] = {
                "text": r[f"text{s}"],
                "title": r[f"title{s}"],
                "lang": r[f"lang{s}"],
            }
            group_of[b] = int(g)
    out, out_groups = [], []
    for b, vs in versions.items():
        for (ia, va), (ib, vb) in itertools.combinations(sorted(vs.items()), 2):
            rec = {"pair_id": f"{ia}|{ib}"}
            rec |= {f"{k}1": v for k, v in va.items()} | {f"{k}2": v for k, v in vb.items()}
            out.append(rec)
            out_groups.append(group_of[b])
    return out, np.array(out_groups, dtype=np.int64)


def plain_cosines(rows: list[dict], enc) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Cosine of title + text encoded as one string (the baselines)."""
    texts = [f"{r[f'title{s}'] or ''}\n{r[f'text{s}']}" for r in rows for s in "12"]
    v = enc.encode(texts).astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", v[0::2], v[1::2])


def featurize(rows: list[dict], use: DiskCache, e5: DiskCache, extra: list[dict]) -> cv.Data:
    """Graded rows of the SemEval pairs then the translation pairs (``extra``), for every
    ``e5_chars`` of the candidates, and the article vectors behind the cosine baselines."""
    pairs = [pair_from_record(r, str(n)) for n, r in enumerate([*rows, *extra])]
    assert all(isinstance(p, Pair) for p in pairs)
    sim = Similarity(encoder=use, e5=e5)
    x, x_unc = {}, {}
    chars = sorted({c.e5_chars for c in cv.CANDIDATES})
    for c in chars:
        x[c], lp = sim.featurize(pairs, e5_chars=c)
        x_unc[c] = sim.features(pairs, e5_align=True, e5_chars=c)
    # an article = its SemEval id with its text (a few ids come with two versions of a text)
    index: dict[tuple, int] = {}
    arts, articles, art_ids = [], [], []
    for r, p in zip([*rows, *extra], pairs, strict=True):
        ids = (r["id1"], r["id2"]) if "id1" in r else tuple(r["pair_id"].split("|"))
        row = []
        for i, a in zip(ids, (p.a, p.b), strict=True):
            key = (i, a.title, a.text)
            if key not in index:
                index[key] = len(articles)
                articles.append(a)
                art_ids.append(i)
            row.append(index[key])
        arts.append(row)
    prepared = [prepare(a) for a in articles]

    def unit(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, np.float64)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    return cv.Data(
        x=x,
        x_unc=x_unc,
        y=np.concatenate(
            [5.0 - np.array([float(r["overall"]) for r in rows]), np.full(len(extra), 4.0)]
        ),
        lp=np.array(lp),
        arts=np.array(arts),
        groups=np.array([]),  # set by the caller
        n=len(rows),
        use_vec=unit(use.encode([whole_text(a) for a in articles])),
        e5_vec={c: unit(e5.encode([e5_text(p, c) for p in prepared])) for c in chars},
        art_lang=np.array([p.lang for p in prepared]),
        art_base=np.array([base_id(i) for i in art_ids]),
    )


def report(rows: list[dict], y: np.ndarray, columns: dict[str, np.ndarray]) -> str:
    """Pearson r of each column with ``y``: all pairs, pairs without machine translation, each
    language pair; then, for every group where the first column is below a plain cosine
    (the last two columns), the difference with a bootstrap 95 % interval."""
    lp = np.array(["-".join(sorted((r["lang1"], r["lang2"]))) for r in rows])
    no_mt = np.array([not (r.get("mt1") or r.get("mt2")) for r in rows])
    names = list(columns)
    lines = ["| pairs | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    groups = [("all", np.ones(len(y), bool)), ("no machine translation", no_mt)]
    groups += [(pair, lp == pair) for pair, _ in Counter(lp).most_common()]
    below = []
    for label, m in groups:
        r = {k: cv.pearson(columns[k][m], y[m]) for k in names}
        lines.append(
            f"| {label} | {int(m.sum())} | " + " | ".join(f"{r[k]:.3f}" for k in names) + " |"
        )
        for k in names[-2:]:
            if r[names[0]] < r[k]:
                d, lo, hi = cv.bootstrap_difference(columns[names[0]][m], columns[k][m], y[m])
                below.append(f"{label} (n={int(m.sum())}): {names[0]} - {k} = {d:+.3f}, "
                             f"95 % bootstrap interval [{lo:+.3f}, {hi:+.3f}]")  # fmt: skip
    if below:
        lines += ["", "Below a plain cosine (2,000 resamples of the pairs):", *below]
    return "\n".join(lines)


def date_curve(data: Path) -> tuple[list[float], list[float]]:
    """Non-increasing factor over the publication gap, from the same-event pairs of GVA dev."""
    from storyline.prepare.dates import parse_date

    gold = {}
    for line in (data / "gva_dev.gold.jsonl").open(encoding="utf-8"):
        g = json.loads(line)
        gold[g["id"]] = g["event"]
    dates: dict[str, list] = defaultdict(list)
    for line in (data / "gva_dev.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        d, _ = parse_date(r.get("published"))
        if d is not None and r["id"] in gold:
            dates[gold[r["id"]]].append(d)
    gaps = np.array(
        [abs((a - b).days) for ds in dates.values() for a, b in itertools.combinations(ds, 2)],
        float,
    )
    days = [0.0, GRACE_DAYS, 4, 7, 10, 14, 21, 30, 60, 120]
    base = float((gaps >= GRACE_DAYS).mean())
    factor = [min(1.0, float((gaps >= d).mean()) / base) for d in days]
    factor = list(np.minimum.accumulate(factor))
    print(f"date curve from {len(gaps)} same-event GVA pairs with dates:")
    print("  " + ", ".join(f"{d:g}d {f:.2f}" for d, f in zip(days, factor, strict=True)))
    return days, factor


def dev_order(data: Path, sim: Similarity, per_grade: int = 150, seed: int = 0) -> dict[str, float]:
    """Mean score of graded pairs from ECB+ and WMT21 dev (none of them used in fitting)."""
    rng = random.Random(seed)

    def load(name: str) -> tuple[dict, dict]:
        arts = {
            json.loads(x)["id"]: json.loads(x)
            for x in (data / f"{name}.jsonl").open(encoding="utf-8")
        }
        gold = {
            json.loads(x)["id"]: json.loads(x)["event"]
            for x in (data / f"{name}.gold.jsonl").open()
        }
        return arts, gold

    wa, wg = load("wmt21_dev")
    ea, eg = load("ecbplus_dev")
    by = defaultdict(list)
    for i, ev in wg.items():
        by[ev].append(i)
    trans = [(a, b) for ids in by.values() for a, b in itertools.combinations(ids, 2)
             if wa[a].get("lang") != wa[b].get("lang")]  # fmt: skip
    ids = sorted(eg)
    same, topic, unrel = [], [], []
    for a, b in itertools.combinations(ids, 2):
        ta, tb = eg[a].removesuffix("plus"), eg[b].removesuffix("plus")
        (same if eg[a] == eg[b] else topic if ta == tb else unrel).append((a, b))
    grades = {"translation": (wa, trans), "same event": (ea, same), "same topic": (ea, topic),
              "unrelated": (ea, unrel)}  # fmt: skip
    means = {}
    for name, (arts, cands) in grades.items():
        chosen = rng.sample(sorted(cands), min(per_grade, len(cands)))
        pairs = []
        for a, b in chosen:
            rec = {"pair_id": f"{a}|{b}"}
            for s, x in (("1", arts[a]), ("2", arts[b])):
                rec |= {
                    f"text{s}": x["text"],
                    f"title{s}": x.get("title"),
                    f"lang{s}": x.get("lang"),
                }
            pairs.append(pair_from_record(rec, rec["pair_id"]))
        means[name] = float(np.mean(sim.score_pairs(pairs)))
    return means


def load_data(args: argparse.Namespace, rows: list[dict], groups: np.ndarray) -> cv.Data:
    """The featurized pairs, from ``--features`` when that file exists."""
    if args.features and args.features.exists():
        print(f"featurized pairs from {args.features}")
        return cv.Data.load(args.features)
    use = DiskCache(USEEncoder(threads=1), args.cache)
    e5 = DiskCache(E5Encoder(threads=1), args.cache)
    extra, t_groups = translation_pairs(rows, groups)
    d = featurize(rows, use, e5, extra)
    d.groups = np.concatenate([groups, t_groups])
    use.save()
    e5.save()
    if args.features:
        d.save(args.features)
    return d


ORDER = ["translation", "same event", "same topic", "unrelated"]


def gate(
    d: cv.Data, data: Path, use: DiskCache, e5: DiskCache, candidates: list[cv.Candidate]
) -> tuple[list[cv.Candidate], dict[cv.Candidate, dict[str, float]]]:
    """The candidates that, fitted on all SemEval pairs, keep the order of the graded dev
    pairs (mean scores: translation > same event > same topic > unrelated)."""
    kept, means = [], {}
    for cand in candidates:
        model = cv.fit(d, cand, np.arange(d.n))
        means[cand] = dev_order(data, Similarity(encoder=use, e5=e5, model=model))
        ok = [means[cand][k] for k in ORDER] == sorted(means[cand].values(), reverse=True)
        print(f"  {cand}: " + ", ".join(f"{k} {means[cand][k]:.3f}" for k in ORDER)
              + ("" if ok else "  -> order broken, left out"), flush=True)  # fmt: skip
        if ok:
            kept.append(cand)
    return kept, means


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "storyline-similarity"
    )
    ap.add_argument("--features", type=Path, help="featurized pairs kept in this .npz file")
    ap.add_argument(
        "--out", type=Path, default=REPO / "src" / "storyline" / "data" / "similarity.npz"
    )
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument(
        "--no-gate", action="store_true", help="do not check the dev order of the candidates"
    )
    ap.add_argument(
        "--raw-only", action="store_true", help="leave the relative-cosine candidates out"
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    rows = [json.loads(x) for x in (args.data / "semeval_train.jsonl").open(encoding="utf-8")]
    groups = components(rows)
    print(
        f"{len(rows)} pairs, {len(set(groups))} groups (connected components of base article ids)"
    )
    d = load_data(args, rows, groups)
    print(f"{len(d.y) - d.n} translation pairs (two versions of one article) for the training side")
    use = DiskCache(USEEncoder(threads=1), args.cache)
    e5 = DiskCache(E5Encoder(threads=1), args.cache)
    use_cos, e5_cos = plain_cosines(rows, use), plain_cosines(rows, e5)
    y = d.y[: d.n]

    candidates = [c for c in cv.CANDIDATES if not (args.raw_only and c.relative)]
    means: dict = {}
    if not args.no_gate:
        print(
            "\nOrder of graded dev pairs (WMT21 / ECB+ dev) of each candidate fitted on all pairs:"
        )
        candidates, means = gate(d, args.data, use, e5, candidates)
        if not candidates:
            sys.exit("no candidate keeps the order of the graded dev pairs")
    print("\nNested grouped 5-fold CV (candidate chosen on the training folds by an inner CV):")
    pred, pred_alt, chosen = cv.nested_cv(d, candidates)
    print("chosen in the outer folds: " + "; ".join(map(str, chosen)))
    print("\nPearson r of the outer-fold predictions with 5 - overall (no-USE model: the one used")
    print("when a language is outside USE, e5 sentence alignment instead of USE, same pairs):\n")
    columns = {"model": pred, "no-USE model": pred_alt, "USE cosine": use_cos, "e5 cosine": e5_cos}
    print(report(rows, y, columns))

    print(f"\nCandidate for the shipped model ({cv.REPEATS} shuffled grouped 5-fold CVs over all pairs):")
    cand = cv.choose(d, np.arange(d.n), candidates)
    graded = cv.fit(d, cand, np.arange(d.n), date_curve(args.data))
    trees = graded.covered.trees
    used = Counter(MODEL_INPUTS[f] for f, leaf in zip(trees.feature, trees.is_leaf, strict=True)
                   if not leaf)  # fmt: skip
    print(f"\nshipped: {cand}; covered-language model: {len(trees.tree_starts)} trees, "
          f"{len(trees.feature)} nodes; splits per feature: "
          + ", ".join(f"{k} {v}" for k, v in used.most_common()))  # fmt: skip
    if not args.no_save:
        graded.save(args.out, cv_pearson=cv.pearson(pred, y), candidate=str(cand))
        print(f"saved {args.out}")
    if cand in means:
        print("\nMean score of graded dev pairs (ECB+ / WMT21 dev, not used in fitting):")
        print("  " + ", ".join(f"{k} {means[cand][k]:.3f}" for k in ORDER))
    use.save()
    e5.save()


if __name__ == "__main__":
    main()
