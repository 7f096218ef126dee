"""Model choice and nested grouped cross-validation for the graded similarity model.

Used by ``scripts/train_similarity.py``. A *candidate* is one way of fitting the model:

- ``e5_chars``: what the e5 encoder reads of each article for ``e5_cos`` (title + the first
  500 characters, or 2,000: about the whole text of a SemEval article, which is cut near
  1,000);
- ``relative``: whether the model also reads the USE and e5 cosines relative to what they
  usually are for the pair's languages (:class:`~storyline.cluster.graded.CosineBaselines`,
  measured on the training articles only, labels unused); pairs in languages without a
  baseline are scored by the same fit without those columns;
- ``monotone``: whether the trees may not lower the prediction as a similarity column rises
  (not among :data:`CANDIDATES`, see there).

Candidates that would make the e5 encoder read each article twice (a 500-character lead *and*
the whole text) are left out on cost: e5 is most of the time of ``storyline similarity``.

A candidate must first keep the order of graded pairs from other data (``dev_order`` in
``train_similarity.py``: translations > same event > same topic > unrelated on WMT21 and ECB+
dev pairs) when fitted on all SemEval pairs: this pass/fail gate reads no SemEval pair, so the
figures below stay out of sample for SemEval, but the order check is no longer blind for the
candidates it turned away.

The candidate is chosen by *inner* grouped 5-fold CVs on the training pairs only (the mean over
``REPEATS`` shuffled splits), by
:func:`criterion` (half overall Pearson r, half the mean r over language pairs with at least 15
pairs), then refitted on the training pairs. The figures reported are those of the *outer*
folds' pairs, which neither the choice nor the fit saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storyline.cluster.graded import (
    GRADED_FEATURES,
    CosineBaselines,
    GradedModel,
    Linear,
    Regressor,
    without_use,
)
from storyline.cluster.tree import TreeModel

PARAMS = {
    "max_iter": 250, "learning_rate": 0.04, "max_leaf_nodes": 8, "min_samples_leaf": 25,
    "l2_regularization": 1.0, "random_state": 0,
}  # fmt: skip
RIDGE_ALPHA = 10.0
BLEND = 0.3  # share of the ridge regression in the prediction
TOPIC_LEVEL = 1 / 3  # score of "somewhat similar" (overall 3): where a date gap pulls a score
FOLDS = 5
REPEATS = 5  # shuffled repeats of the grouped CV that chooses a candidate
MIN_LANG_PAIRS = 15  # language pairs with fewer pairs do not enter the criterion's mean
MIN_BASELINE_PAIRS = 50  # article pairs needed for a language pair's own cosine baseline
SIMILARITY_COLUMNS = [
    "doc_cos", "lead_cos", "tfidf_cos", "names_overlap", "names_shared", "numbers_overlap",
    "numbers_shared", "aligned_share", "aligned_soft", "use_cos", "title_cos", "e5_cos",
    "sent_max", "places_overlap", "people_overlap", "orgs_overlap", "entities_jaccard",
    "use_rel", "e5_rel",
]  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    e5_chars: int
    relative: bool
    monotone: bool

    def __str__(self) -> str:
        parts = [
            f"e5 {self.e5_chars} chars",
            "relative cosines" if self.relative else "raw cosines",
        ]
        return ", ".join(parts + (["monotone"] if self.monotone else []))


# Monotone candidates are left out: under the constraints the trees move their splits to the
# one unconstrained column that varies, length_ratio (952 of 1,750 splits in the model chosen
# with them, against 181 without), whose spread on SemEval texts cut near 1,000 characters is
# not that of whole articles. With them, the nested CV gave 0.800 overall (docs/scorer.md).
CANDIDATES = [Candidate(c, r, False) for r in (False, True) for c in (500, 2000)]


@dataclass
class Data:
    """Featurized pairs for every ``e5_chars`` of the candidates.

    ``x[c]`` / ``x_unc[c]``: graded rows (USE / e5 sentence alignment) with e5 reading ``c``
    characters; ``lp``: language pair of each row; ``arts``: (n, 2) indices of each row's
    articles into ``use_vec`` / ``e5_vec[c]`` / ``art_lang`` / ``art_base``. Rows ``[:n]`` are
    the SemEval pairs (target ``y``, group ``groups``); the rest are the translation pairs,
    which only ever join the training side (``extra_groups``: their articles' groups).
    """

    x: dict[int, np.ndarray]
    x_unc: dict[int, np.ndarray]
    y: np.ndarray
    lp: np.ndarray
    arts: np.ndarray
    groups: np.ndarray
    n: int
    use_vec: np.ndarray
    e5_vec: dict[int, np.ndarray]
    art_lang: np.ndarray
    art_base: np.ndarray

    def save(self, path: Path) -> None:
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        for name in ("x", "x_unc", "e5_vec"):
            arrays |= {f"{name}@{c}": v for c, v in getattr(self, name).items()}
        np.savez(path, n=np.array([self.n]), **arrays)

    @classmethod
    def load(cls, path: Path) -> Data:
        z = np.load(path)
        split = {name: {int(k.split("@")[1]): z[k] for k in z.files if k.startswith(f"{name}@")}
                 for name in ("x", "x_unc", "e5_vec")}  # fmt: skip
        plain = {k: z[k] for k in z.files if "@" not in k and k != "n"}
        return cls(**split, **plain, n=int(z["n"][0]))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def criterion(pred: np.ndarray, y: np.ndarray, lp: np.ndarray) -> float:
    """Half the overall Pearson r, half the mean r over language pairs (≥ MIN_LANG_PAIRS)."""
    langs = [k for k in np.unique(lp) if (lp == k).sum() >= MIN_LANG_PAIRS]
    per = [pearson(pred[lp == k], y[lp == k]) for k in langs]
    return 0.5 * pearson(pred, y) + 0.5 * float(np.nanmean(per)) if per else pearson(pred, y)


def cosine_baselines(d: Data, e5_chars: int, rows: np.ndarray) -> CosineBaselines:
    """Mean and sd of the USE and e5 cosines over pairs of different articles (base ids
    differ) of the given rows, per language pair (with at least MIN_BASELINE_PAIRS)."""
    arts = np.unique(d.arts[rows].ravel())
    lang, base = d.art_lang[arts], d.art_base[arts]
    cos = [
        d.use_vec[arts] @ d.use_vec[arts].T,
        d.e5_vec[e5_chars][arts] @ d.e5_vec[e5_chars][arts].T,
    ]
    differ = base[:, None] != base[None, :]
    stats: dict[str, list[float]] = {}

    def figures(m: np.ndarray) -> list[float]:
        return [f for c in cos for f in (float(c[m].mean()), max(float(c[m].std()), 1e-3))]

    langs = np.unique(lang)
    for i, la in enumerate(langs):
        for lb in langs[i:]:
            m = np.outer(lang == la, lang == lb) | np.outer(lang == lb, lang == la)
            m &= differ
            if m.sum() >= MIN_BASELINE_PAIRS:
                stats[f"{la}-{lb}"] = figures(m)
    return CosineBaselines(stats)


def fit_regressor(
    x: np.ndarray, y: np.ndarray, monotone: bool, columns: Sequence[str]
) -> Regressor:
    """Trees and ridge regression on (x, y), exported to numpy (no scikit-learn at run time)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge

    params: dict = dict(PARAMS)
    if monotone:
        params["monotonic_cst"] = [int(c in SIMILARITY_COLUMNS) for c in columns]
    trees = TreeModel.from_sklearn(HistGradientBoostingRegressor(**params).fit(x, y))
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    ridge = Ridge(alpha=RIDGE_ALPHA).fit((x - mean) / scale, y)
    return Regressor(trees, Linear(mean, scale, ridge.coef_, float(ridge.intercept_)), BLEND)


def fit(
    d: Data,
    cand: Candidate,
    rows: np.ndarray,
    curve: tuple[Sequence[float], Sequence[float]] = ([0.0], [1.0]),
) -> GradedModel:
    """The model of ``cand`` fitted on ``rows`` (indices into the SemEval pairs; translation
    pairs of the same groups are added)."""
    rows = np.concatenate([rows, d.n + np.flatnonzero(np.isin(d.groups[d.n :], d.groups[rows]))])
    base = cosine_baselines(d, cand.e5_chars, rows) if cand.relative else None
    lp = list(d.lp[rows])

    def inputs(x: np.ndarray) -> np.ndarray:  # what GradedModel.inputs gives the regressors
        return np.column_stack([x, base.columns(x, lp)]) if base is not None else x

    x = inputs(d.x[cand.e5_chars][rows])
    x_unc = without_use(inputs(d.x_unc[cand.e5_chars][rows]))
    columns = [*GRADED_FEATURES, *(["use_rel", "e5_rel"] if base is not None else [])]
    y = d.y[rows]
    raw = None
    if base is not None:  # for language pairs without a baseline: the same fit without them
        k = len(GRADED_FEATURES)
        raw = (
            fit_regressor(x[:, :k], y, cand.monotone, columns[:k]),
            fit_regressor(x_unc[:, :k], y, cand.monotone, columns[:k]),
        )
    known = base.known(lp, len(rows)) if base is not None else np.ones(len(rows), bool)
    return GradedModel(
        fit_regressor(x[known], y[known], cand.monotone, columns),
        fit_regressor(x_unc[known], y[known], cand.monotone, columns),
        *curve,
        topic_level=TOPIC_LEVEL,
        e5_chars=cand.e5_chars,
        baselines=base,
        raw=raw,
    )


def as_uncovered(x_unc: np.ndarray) -> np.ndarray:
    """Rows marked as having a language outside USE (so the model routes them there)."""
    out = x_unc.copy()
    out[:, GRADED_FEATURES.index("covered")] = 0.0
    return out


def predict(d: Data, model: GradedModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictions for SemEval ``rows``: the model's, and its no-USE regressor's."""
    c, lp = model.e5_chars, list(d.lp[rows])
    return model.predict(d.x[c][rows], lp), model.predict(as_uncovered(d.x_unc[c][rows]), lp)


def _splits(groups: np.ndarray, seed: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped folds (no group on both sides); ``seed``: groups shuffled before they are dealt
    to folds (scikit-learn >= 1.6), None: GroupKFold's own order."""
    from sklearn.model_selection import GroupKFold

    kw = {} if seed is None else {"shuffle": True, "random_state": seed}
    out = list(GroupKFold(n_splits=FOLDS, **kw).split(groups, groups=groups))
    for tr, te in out:
        assert not set(groups[tr]) & set(groups[te])
    return out


def choose(
    d: Data,
    rows: np.ndarray,
    candidates: Sequence[Candidate] = CANDIDATES,
    log: Callable[[str], None] = print,
    repeats: int = REPEATS,
) -> Candidate:
    """The candidate chosen by ``repeats`` shuffled grouped CVs of ``rows`` alone: of those
    whose mean :func:`criterion` is within one standard error (over the repeats) of the best
    mean, the one whose e5 encoder reads least (most of the time of ``storyline similarity``
    is e5: reading 2,000 characters instead of 500 made 100 pairs of ECB+ articles take 83 s
    instead of 27 s on one core). One CV's split decides between close candidates: over all
    SemEval pairs, e5 reading 500 or 2,000 characters won one split each by 0.004."""
    y, lp = d.y[rows], d.lp[rows]
    runs: dict[Candidate, list[float]] = {}
    for cand in candidates:
        runs[cand] = []
        for seed in range(repeats):
            pred = np.zeros(len(rows))
            for tr, te in _splits(d.groups[rows], seed):
                pred[te] = predict(d, fit(d, cand, rows[tr]), rows[te])[0]
            runs[cand].append(criterion(pred, y, lp))
    mean = {c: float(np.mean(v)) for c, v in runs.items()}
    top = max(candidates, key=lambda c: mean[c])
    se = float(np.std(runs[top], ddof=1) / np.sqrt(repeats)) if repeats > 1 else 0.0
    near = [c for c in candidates if mean[c] >= mean[top] - se]
    best = min(near, key=lambda c: (c.e5_chars, -mean[c]))
    log("    " + "; ".join(f"{c}: {m:.4f}" for c, m in mean.items())
        + f" (best - 1 se = {mean[top] - se:.4f}) -> {best}")  # fmt: skip
    return best


def nested_cv(
    d: Data,
    candidates: Sequence[Candidate] = CANDIDATES,
    log: Callable[[str], None] = print,
    repeats: int = REPEATS,
) -> tuple[np.ndarray, np.ndarray, list]:
    """Outer-fold predictions (model, no-USE model) of the SemEval pairs, each from the
    candidate chosen and fitted on the other folds only; and the candidates chosen."""
    pred, pred_unc, chosen = np.zeros(d.n), np.zeros(d.n), []
    for k, (tr, te) in enumerate(_splits(d.groups[: d.n])):
        log(f"  outer fold {k + 1}/{FOLDS}: {len(tr)} training pairs, {len(te)} held out")
        cand = choose(d, tr, candidates, log, repeats)
        pred[te], pred_unc[te] = predict(d, fit(d, cand, tr), te)
        chosen.append(cand)
    return pred, pred_unc, chosen


def bootstrap_difference(
    a: np.ndarray, b: np.ndarray, y: np.ndarray, n: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """r(a, y) - r(b, y) and its 95 % percentile interval over resamples of the pairs."""
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        diffs.append(pearson(a[i], y[i]) - pearson(b[i], y[i]))
    lo, hi = np.nanpercentile(diffs, [2.5, 97.5])
    return pearson(a, y) - pearson(b, y), float(lo), float(hi)
