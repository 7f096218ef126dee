"""Fit the graded similarity model (``src/storyline/data/similarity.npz``) and report it.

    PYTHONPATH=src python scripts/train_similarity.py [--data ../shared/data] [--cache DIR]
        [--no-save] [--dev-order] [--no-translations]

1. SemEval-2022 Task 8 training pairs (``semeval_train.jsonl``): the product's own graded
   features (:meth:`storyline.cluster.similarity.Similarity.features`), target 5 - overall.
2. Grouped 5-fold cross-validation: groups = connected components of the article graph
   (ids with their machine-translation suffix stripped), so no article is on both sides of a
   fold. Pearson r of the out-of-fold predictions overall, per language pair and on the
   pairs without a machine-translated side, beside the plain USE and e5 cosines of
   title + text on the same pairs.
3. The date curve from the Gun Violence Archive dev gold (``gva_dev``: dated reports, events
   = episodes of incidents): the share of same-event pairs published at least g days apart,
   relative to that share at 2 days, made non-increasing. SemEval pairs have no dates, so
   dates cannot be fitted there; the curve is fitted on other data and only applied.
4. The model refitted on all pairs, saved with the curve. ``--dev-order`` also scores graded
   pairs from the ECB+ and WMT21 dev sets (translation / same event / same topic / unrelated).

Encoder outputs are cached per text in ``--cache`` (default: a folder in the temp dir).
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

from storyline.cluster.graded import (
    GRADED_FEATURES,
    GradedModel,
    Linear,
    Regressor,
    without_use,
)
from storyline.cluster.similarity import Pair, Similarity, pair_from_record
from storyline.cluster.tree import TreeModel
from storyline.represent.encoder import E5Encoder, USEEncoder

PARAMS = {
    "max_iter": 250, "learning_rate": 0.04, "max_leaf_nodes": 8, "min_samples_leaf": 25,
    "l2_regularization": 1.0, "random_state": 0,
}  # fmt: skip
RIDGE_ALPHA = 10.0
BLEND = 0.3  # share of the ridge regression in the prediction
TOPIC_LEVEL = 1 / 3  # score of "somewhat similar" (overall 3): where a date gap pulls a score
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


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def plain_cosines(rows: list[dict], enc) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Cosine of title + text encoded as one string (the baselines)."""
    texts = [f"{r[f'title{s}'] or ''}\n{r[f'text{s}']}" for r in rows for s in "12"]
    v = enc.encode(texts).astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", v[0::2], v[1::2])


def fit_regressor(x: np.ndarray, y: np.ndarray) -> Regressor:
    """Trees and ridge regression on (x, y), exported to numpy (no scikit-learn at run time)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge

    trees = TreeModel.from_sklearn(HistGradientBoostingRegressor(**PARAMS).fit(x, y))
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    ridge = Ridge(alpha=RIDGE_ALPHA).fit((x - mean) / scale, y)
    return Regressor(trees, Linear(mean, scale, ridge.coef_, float(ridge.intercept_)), BLEND)


def fit(
    x: np.ndarray,
    x_unc: np.ndarray,
    y: np.ndarray,
    curve: tuple[list[float], list[float]] = ([0.0], [1.0]),
) -> GradedModel:
    """The covered-language regressor (on ``x``), the one for other languages (on ``x_unc``:
    e5 sentence alignment, USE cosines removed), the date curve."""
    return GradedModel(
        fit_regressor(x, y), fit_regressor(without_use(x_unc), y), *curve, topic_level=TOPIC_LEVEL
    )


def as_uncovered(x_unc: np.ndarray) -> np.ndarray:
    """Rows marked as having a language outside USE (so the model routes them there)."""
    out = x_unc.copy()
    out[:, GRADED_FEATURES.index("covered")] = 0.0
    return out


def cross_validate(
    x: np.ndarray,
    x_unc: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    extra: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    folds: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of both regressors (the second as if no language were in USE).
    ``extra`` (x, x_unc, y, groups of the translation pairs) join the training side of the
    folds their groups are in; only the SemEval pairs are predicted."""
    from sklearn.model_selection import GroupKFold

    pred, pred_unc = np.zeros(len(y)), np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
        assert not set(groups[tr]) & set(groups[te])
        xt, xut, yt = x[tr], x_unc[tr], y[tr]
        if extra is not None:
            keep = np.isin(extra[3], groups[tr])
            xt, xut, yt = (
                np.concatenate([a, b[keep]])
                for a, b in ((xt, extra[0]), (xut, extra[1]), (yt, extra[2]))
            )
        model = fit(xt, xut, yt)
        pred[te] = model.predict(x[te])
        pred_unc[te] = model.predict(as_uncovered(x_unc[te]))
    return pred, pred_unc


def report(rows: list[dict], y: np.ndarray, columns: dict[str, np.ndarray]) -> str:
    lp = np.array(["-".join(sorted((r["lang1"], r["lang2"]))) for r in rows])
    no_mt = np.array([not (r.get("mt1") or r.get("mt2")) for r in rows])
    names = list(columns)
    lines = ["| pairs | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]

    def line(label: str, m: np.ndarray) -> str:
        vals = " | ".join(f"{pearson(columns[k][m], y[m]):.3f}" for k in names)
        return f"| {label} | {int(m.sum())} | {vals} |"

    lines.append(line("all", np.ones(len(y), bool)))
    lines.append(line("no machine translation", no_mt))
    for pair, _ in Counter(lp).most_common():
        lines.append(line(pair, lp == pair))
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "storyline-similarity"
    )
    ap.add_argument(
        "--out", type=Path, default=REPO / "src" / "storyline" / "data" / "similarity.npz"
    )
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--dev-order", action="store_true")
    ap.add_argument(
        "--no-translations", action="store_true", help="fit without the translation pairs"
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    use = DiskCache(USEEncoder(threads=1), args.cache)
    e5 = DiskCache(E5Encoder(threads=1), args.cache)

    rows = [json.loads(x) for x in (args.data / "semeval_train.jsonl").open(encoding="utf-8")]
    pairs = [pair_from_record(r, str(n)) for n, r in enumerate(rows)]
    assert all(isinstance(p, Pair) for p in pairs)
    y = 5.0 - np.array([float(r["overall"]) for r in rows])
    groups = components(rows)
    print(
        f"{len(rows)} pairs, {len(set(groups))} groups (connected components of base article ids)"
    )

    sim = Similarity(encoder=use, e5=e5)
    x = sim.features(pairs)
    use_cos = plain_cosines(rows, use)
    e5_cos = plain_cosines(rows, e5)
    x_unc = sim.features(pairs, e5_align=True)
    extra = None
    if not args.no_translations:
        recs, t_groups = translation_pairs(rows, groups)
        t_pairs = [pair_from_record(r, r["pair_id"]) for r in recs]
        extra = (
            sim.features(t_pairs),
            sim.features(t_pairs, e5_align=True),
            np.full(len(recs), 4.0),
            t_groups,
        )
        print(
            f"{len(recs)} translation pairs (two versions of one article) added to the training side"
        )
    pred, pred_alt = cross_validate(x, x_unc, y, groups, extra)
    print("\nGrouped 5-fold CV, Pearson r with 5 - overall (no-USE model: the one used when a")
    print(
        "language is outside USE, e5 sentence alignment instead of USE, here on the same pairs):\n"
    )
    columns = {"model": pred, "no-USE model": pred_alt, "USE cosine": use_cos, "e5 cosine": e5_cos}
    print(report(rows, y, columns))

    if extra is not None:
        x, x_unc, y = (
            np.concatenate([a, b]) for a, b in ((x, extra[0]), (x_unc, extra[1]), (y, extra[2]))
        )
    graded = fit(x, x_unc, y, date_curve(args.data))
    trees = graded.covered.trees
    used = Counter(GRADED_FEATURES[f] for f, leaf in zip(trees.feature, trees.is_leaf, strict=True)
                   if not leaf)  # fmt: skip
    print(f"\ncovered-language model: {len(trees.tree_starts)} trees, {len(trees.feature)} nodes; "
          "splits per feature: " + ", ".join(f"{k} {v}" for k, v in used.most_common()))  # fmt: skip
    if not args.no_save:
        graded.save(args.out, cv_pearson=float(pearson(pred, y[: len(pred)])))
        print(f"saved {args.out}")
    if args.dev_order:
        sim.model = graded
        means = dev_order(args.data, sim)
        print("\nMean score of graded dev pairs (ECB+ / WMT21 dev, not used in fitting):")
        print("  " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()))
    use.save()
    e5.save()


if __name__ == "__main__":
    main()
