"""Graded similarity of two articles: the features and the model behind ``storyline similarity``.

A pair's features (:data:`GRADED_FEATURES`) are the clusterer's pair features
(:func:`~storyline.cluster.pairs.pair_features`, without the date columns) plus a few that
grade rather than decide: the USE cosine of the titles, the multilingual-e5 cosine of title
and first paragraph for every pair (not only for languages outside USE), and overlaps of the
cross-lingual entity keys by kind (places, people, organisations), and the USE cosine of the
whole text. Small gradient-boosted regression trees blended with a ridge regression
(``data/similarity.npz``, fitted by ``scripts/train_similarity.py`` on SemEval-2022 Task 8
pairs; a second set without the USE columns for languages outside USE) map them to the SemEval scale, 4 = the same event and story,
1 = unrelated; the score is that prediction rescaled to [0, 1].

The model may also read two columns of its own (:data:`RELATIVE_COLUMNS`): the USE and e5
cosines relative to what they usually are for the pair's two languages (:class:`CosineBaselines`,
a mean and spread per language pair measured on article pairs of the training data, labels
unused). A cosine of 0.85 is ordinary between two machine-translated Russian texts and high
between two English ones; the trees see both readings.

Dates do not enter the model (the training pairs have none); a known gap between the two
publication dates shrinks the score towards the same-topic level afterwards
(:meth:`GradedModel.date_factor`, a monotone curve shipped in the same file).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..model import Processed
from ..represent.features import ArticleFeatures
from .pairs import FEATURES, pair_features
from .tree import TreeModel, load_arrays

_DATE_COLUMNS = {"date_gap", "date_known", "year_match", "pub_gap", "second_cos"}
_LATER_COLUMNS = {"names_min", "numbers_min", "specific_shared", "specific_min"}  # added to the clusterer after this model's fit
BASE_FEATURES = [f for f in FEATURES if f not in _DATE_COLUMNS | _LATER_COLUMNS]
_BASE_INDEX = [FEATURES.index(f) for f in BASE_FEATURES]

GRADED_FEATURES = [
    *BASE_FEATURES,
    "use_cos",  # USE cosine of title + text encoded as one string
    "title_cos",  # USE cosine of the titles (the first sentences when there is no title)
    "e5_cos",  # multilingual-e5 cosine of title + first paragraph, every pair
    "sent_max",  # best sentence-to-sentence cosine
    "places_overlap",  # overlap coefficient of country/city/location entity keys
    "people_overlap",  # ... of person keys
    "orgs_overlap",  # ... of organisation keys
    "entities_jaccard",  # Jaccard index of all entity keys
    "cjk",  # a side in Chinese, Japanese or Korean (name keys work less well there)
]

# For a pair with a language outside USE these USE cosines are 0 (the model for such pairs is
# fitted without them) and the sentence alignment columns come from e5 sentence vectors.
USE_COLUMNS = ["doc_cos", "lead_cos", "use_cos", "title_cos"]
ALIGN_COLUMNS = ["aligned_share", "aligned_soft", "sent_max"]
# read by a model that carries cosine baselines, after GRADED_FEATURES: the use_cos and e5_cos
# columns as z-scores against the cosines usual for the pair's languages
RELATIVE_COLUMNS = ["use_rel", "e5_rel"]
MODEL_INPUTS = [*GRADED_FEATURES, *RELATIVE_COLUMNS]
_USE_INDEX = [GRADED_FEATURES.index(f) for f in USE_COLUMNS] + [MODEL_INPUTS.index("use_rel")]
_ALIGN_INDEX = [GRADED_FEATURES.index(f) for f in ALIGN_COLUMNS]
E5_ALIGN_CUT = 0.9  # e5 cosines run higher than USE ones: a sentence "has a counterpart" above this
E5_SENTENCES = 8
_COVERED = GRADED_FEATURES.index("covered")
_LENGTH = GRADED_FEATURES.index("length_ratio")
LENGTH_CAP = 1100  # length_ratio compares lengths up to this (the SemEval texts are cut near 1,000)
E5_CHARS = (
    500  # characters of title + cleaned text that the e5 encoder reads (models before 2026-12)
)
SCALE_LOW, SCALE_HIGH = 1.0, 4.0  # the SemEval scale, after target = 5 - overall


def e5_text(p: Processed, chars: int = E5_CHARS) -> str:
    """What the e5 encoder reads of an article: title and the first ``chars`` characters of the
    cleaned text (the shipped model says how many: :attr:`GradedModel.e5_chars`)."""
    head = f"{p.title}\n{p.clean_text}" if p.title else p.clean_text
    return head[:chars] or " "


def lang_pair(a: str | None, b: str | None) -> str:
    """The key of a pair's two languages, in either order: ``de-en`` for (en, de)."""
    return "-".join(sorted((a or "und", b or "und")))


def _keys(p: Processed, kinds: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        k for _, label, k in p.entities if k and (label in kinds or k.split(":")[0] in kinds)
    )


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def graded_row(
    pa: Processed,
    pb: Processed,
    fa: ArticleFeatures,
    fb: ArticleFeatures,
    use_cos: float,
    title_cos: float,
    e5_cos: float,
    e5_sents: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[float]:
    """The feature vector of one pair, in the order of :data:`GRADED_FEATURES`.

    ``e5_sents``: e5 vectors of the first sentences of each side; when given, the sentence
    alignment columns are computed from them (pairs with a language outside USE).
    """
    base = pair_features(fa, fb)
    row = [base[i] for i in _BASE_INDEX]
    la, lb = min(fa.length, LENGTH_CAP), min(fb.length, LENGTH_CAP)
    row[_LENGTH] = min(la, lb) / max(la, lb, 1)
    if fa.sents is not None and fb.sents is not None and len(fa.sents) and len(fb.sents):
        sent_max = float((fa.sents.astype(np.float64) @ fb.sents.astype(np.float64).T).max())
    else:
        sent_max = 0.0
    places = ("LOC", "country", "city")
    ea = frozenset(k for _, _, k in pa.entities if k)
    eb = frozenset(k for _, _, k in pb.entities if k)
    union = len(ea | eb)
    row += [
        use_cos,
        title_cos,
        e5_cos,
        sent_max,
        _overlap(_keys(pa, places), _keys(pb, places)),
        _overlap(_keys(pa, ("PER", "per")), _keys(pb, ("PER", "per"))),
        _overlap(_keys(pa, ("ORG", "org")), _keys(pb, ("ORG", "org"))),
        len(ea & eb) / union if union else 0.0,
        float(bool({pa.lang, pb.lang} & {"zh", "ja", "ko", "zh-tw"})),
    ]
    if e5_sents is not None:
        for i, v in zip(_ALIGN_INDEX, e5_alignment(*e5_sents), strict=True):
            row[i] = v
    return row


def e5_alignment(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Share of the shorter side's sentences with an e5 counterpart ≥ :data:`E5_ALIGN_CUT`, their
    mean best cosine, and the best cosine of all (0s when a side has no sentence)."""
    if not len(a) or not len(b):
        return 0.0, 0.0, 0.0
    m = np.asarray(a, np.float64) @ np.asarray(b, np.float64).T
    best = m.max(axis=0) if len(a) > len(b) else m.max(axis=1)
    return float((best >= E5_ALIGN_CUT).mean()), float(best.mean()), float(m.max())


class Linear:
    """A ridge regression on standardised features: ``intercept + ((x - mean) / scale) @ coef``."""

    def __init__(
        self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float
    ) -> None:
        self.mean, self.scale, self.coef = (np.asarray(v, np.float64) for v in (mean, scale, coef))
        self.intercept = float(intercept)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.intercept + ((rows - self.mean) / self.scale) @ self.coef


class Regressor:
    """Regression trees blended with a ridge regression: (1 - ``blend``) × trees + ``blend`` ×
    linear, on the SemEval scale."""

    def __init__(self, trees: TreeModel, linear: Linear, blend: float) -> None:
        self.trees, self.linear, self.blend = trees, linear, float(blend)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        return (1.0 - self.blend) * self.trees.raw(rows) + self.blend * self.linear.predict(rows)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        t, lin = self.trees, self.linear
        nodes = np.column_stack(
            [t.feature, t.threshold, t.left, t.right, t.is_leaf, t.value, np.zeros(len(t.feature))]
        )
        return {
            f"{prefix}nodes": nodes,
            f"{prefix}tree_starts": t.tree_starts,
            f"{prefix}baseline": np.array([t.baseline]),
            f"{prefix}linear_mean": lin.mean,
            f"{prefix}linear_scale": lin.scale,
            f"{prefix}linear_coef": lin.coef,
            f"{prefix}linear_intercept": np.array([lin.intercept]),
            f"{prefix}blend": np.array([self.blend]),
        }

    @classmethod
    def from_arrays(cls, z: Mapping[str, np.ndarray], prefix: str) -> Regressor:
        trees = TreeModel(
            z[f"{prefix}nodes"], z[f"{prefix}tree_starts"], float(z[f"{prefix}baseline"][0])
        )
        linear = Linear(
            z[f"{prefix}linear_mean"],
            z[f"{prefix}linear_scale"],
            z[f"{prefix}linear_coef"],
            float(z[f"{prefix}linear_intercept"][0]),
        )
        return cls(trees, linear, float(z[f"{prefix}blend"][0]))


def without_use(rows: np.ndarray) -> np.ndarray:
    """``rows`` with the USE-based columns set to 0 (what the uncovered-language model reads).
    ``rows`` are graded feature rows, optionally followed by the relative columns."""
    out = np.array(rows, dtype=np.float64, copy=True)
    out[:, [i for i in _USE_INDEX if i < out.shape[1]]] = 0.0
    return out


class CosineBaselines:
    """What the USE and e5 cosines usually are for two articles in given languages.

    ``stats[lang_pair]`` = (mean, sd) of the USE cosine and (mean, sd) of the e5 cosine over
    pairs of different articles in those languages (the training articles, whatever their
    grades). :meth:`columns` turns a pair's cosines into z-scores against them. A language pair
    without figures has no relative columns (NaN): the model scores it without them.
    """

    def __init__(self, stats: Mapping[str, Sequence[float]]) -> None:
        self.stats = {k: np.asarray(v, np.float64) for k, v in stats.items()}

    def known(self, pairs: Sequence[str] | None, n: int) -> np.ndarray:
        """Which of ``n`` rows (language pairs ``pairs``; None: unknown) have figures."""
        if pairs is None:
            return np.zeros(n, bool)
        if len(pairs) != n:
            raise ValueError(f"{n} rows but {len(pairs)} language pairs")
        return np.array([k in self.stats for k in pairs], dtype=bool)

    def columns(self, rows: np.ndarray, pairs: Sequence[str] | None) -> np.ndarray:
        """The :data:`RELATIVE_COLUMNS` of ``rows`` (graded feature rows) for language pairs
        ``pairs``; NaN for a pair without figures."""
        known = self.known(pairs, len(rows))
        nan = np.full(4, np.nan)
        st = np.array(
            [self.stats[k] if ok else nan for k, ok in zip(pairs or [], known, strict=False)]
        ).reshape(-1, 4)
        if not len(st):
            st = np.full((len(rows), 4), np.nan)
        use = rows[:, GRADED_FEATURES.index("use_cos")]
        e5 = rows[:, GRADED_FEATURES.index("e5_cos")]
        return np.column_stack([(use - st[:, 0]) / st[:, 1], (e5 - st[:, 2]) / st[:, 3]])

    def arrays(self) -> dict[str, np.ndarray]:
        keys = sorted(self.stats)
        return {
            "baseline_keys": np.array(keys),
            "baseline_stats": np.array([self.stats[k] for k in keys]),
        }

    @classmethod
    def from_arrays(cls, z: Mapping[str, np.ndarray]) -> CosineBaselines | None:
        if "baseline_keys" not in z:
            return None
        return cls(
            dict(zip((str(k) for k in z["baseline_keys"]), z["baseline_stats"], strict=True))
        )


def _route(covered: Regressor, uncovered: Regressor, x: np.ndarray) -> np.ndarray:
    """``covered`` for rows whose languages USE covers, ``uncovered`` (USE columns zeroed) for
    the others."""
    out = np.zeros(len(x))
    cov = x[:, _COVERED] == 1.0
    if cov.any():
        out[cov] = covered.predict(x[cov])
    if (~cov).any():
        out[~cov] = uncovered.predict(without_use(x[~cov]))
    return out


class GradedModel:
    """What ``data/similarity.npz`` holds: the regressor for pairs in languages that USE covers,
    one fitted without the USE columns for the other pairs (Icelandic, Greek, Czech …: e5,
    names and numbers only), the score scale and the date curve.

    ``date_days`` / ``date_factor``: a non-increasing curve over the gap in days between the
    two publication dates; the part of the score above ``topic_level`` is multiplied by it.
    ``e5_chars``: how much of each article the e5 encoder reads for ``e5_cos``;
    ``baselines``: when given, the regressors also read :data:`RELATIVE_COLUMNS`, and ``raw``
    (covered, uncovered regressors fitted on the same pairs without those columns) scores the
    pairs whose languages have no baseline: a cosine's usual level is not guessed.
    """

    def __init__(
        self,
        covered: Regressor,
        uncovered: Regressor,
        date_days: Sequence[float] = (0.0,),
        date_factor: Sequence[float] = (1.0,),
        topic_level: float = 1 / 3,
        e5_chars: int = E5_CHARS,
        baselines: CosineBaselines | None = None,
        raw: tuple[Regressor, Regressor] | None = None,
    ) -> None:
        if baselines is not None and raw is None:
            raise ValueError("a model with cosine baselines needs regressors without them (raw)")
        self.covered, self.uncovered = covered, uncovered
        self.date_days = np.asarray(date_days, dtype=np.float64)
        self.date_factors = np.asarray(date_factor, dtype=np.float64)
        self.topic_level = float(topic_level)
        self.e5_chars = int(e5_chars)
        self.baselines = baselines
        self.raw = raw if baselines is not None else None

    def inputs(self, rows: np.ndarray, pairs: Sequence[str] | None = None) -> np.ndarray:
        """What the regressors read: the graded feature rows, and the relative columns when
        the model carries cosine baselines (``pairs``: the rows' language pairs,
        :func:`lang_pair`)."""
        rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
        if rows.shape[1] != len(GRADED_FEATURES):
            raise ValueError(
                f"expected rows of {len(GRADED_FEATURES)} graded features, got {rows.shape}"
            )
        if self.baselines is None:
            return rows
        return np.column_stack([rows, self.baselines.columns(rows, pairs)])

    def predict(self, rows: np.ndarray, pairs: Sequence[str] | None = None) -> np.ndarray:
        """Predictions on the SemEval scale (4 = same event, 1 = unrelated), not clipped."""
        x = self.inputs(rows, pairs)
        if self.baselines is None or self.raw is None:
            return _route(self.covered, self.uncovered, x)
        known = self.baselines.known(pairs, len(x))
        out = np.zeros(len(x))
        if known.any():
            out[known] = _route(self.covered, self.uncovered, x[known])
        if (~known).any():
            out[~known] = _route(*self.raw, x[~known, : len(GRADED_FEATURES)])
        return out

    def date_factor(self, gap_days: float | None) -> float:
        """Multiplier of the score above the topic level for a publication-date gap (1 = no
        change; unknown gap: 1)."""
        if gap_days is None or not math.isfinite(gap_days):
            return 1.0
        return float(np.interp(abs(gap_days), self.date_days, self.date_factors))

    def scores(
        self,
        rows: np.ndarray,
        gaps: Sequence[float | None] | None = None,
        pairs: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Scores in [0, 1]: 1 = the same event (SemEval "very similar"), 0 = unrelated.
        ``pairs``: the rows' language pairs (:func:`lang_pair`), read by cosine baselines."""
        s = np.clip((self.predict(rows, pairs) - SCALE_LOW) / (SCALE_HIGH - SCALE_LOW), 0.0, 1.0)
        if gaps is not None:
            f = np.array([self.date_factor(g) for g in gaps])
            above = np.maximum(s - self.topic_level, 0.0)
            s = s - above * (1.0 - f)
        return np.round(s, 4)

    def save(self, path: str | Path, **meta: object) -> None:
        np.savez_compressed(
            path,
            features=np.array(GRADED_FEATURES),
            date_days=self.date_days,
            date_factor=self.date_factors,
            topic_level=np.array([self.topic_level]),
            e5_chars=np.array([self.e5_chars]),
            **(self.baselines.arrays() if self.baselines is not None else {}),
            **(self.raw[0].arrays("raw_covered_") if self.raw is not None else {}),
            **(self.raw[1].arrays("raw_uncovered_") if self.raw is not None else {}),
            **self.covered.arrays("covered_"),
            **self.uncovered.arrays("uncovered_"),
            **{k: np.array(v) for k, v in meta.items()},
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> GradedModel:
        z = load_arrays(path, "similarity.npz", GRADED_FEATURES, "similarity model")
        return cls(
            Regressor.from_arrays(z, "covered_"),
            Regressor.from_arrays(z, "uncovered_"),
            z["date_days"],
            z["date_factor"],
            float(z["topic_level"][0]),
            int(z["e5_chars"][0]) if "e5_chars" in z else E5_CHARS,
            CosineBaselines.from_arrays(z),
            (
                (
                    Regressor.from_arrays(z, "raw_covered_"),
                    Regressor.from_arrays(z, "raw_uncovered_"),
                )
                if "raw_covered_nodes" in z
                else None
            ),
        )
