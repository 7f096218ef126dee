"""The scorer check: probabilities in [0, 1] with the shapes the online clusterer asks for,
``score_many`` and ``score_grid`` agreeing, symmetric where the pair cache assumes it, and a
stable ``fingerprint``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..cluster.base import Scorer
from ..model import Article
from ..prepare.article import prepare
from ..represent.builder import FeatureBuilder
from ..represent.encoder import HashingEncoder
from ..represent.features import ArticleFeatures
from .common import built, expect, label_of

MEMBERS = ("meta", "second", "score_many", "score_grid", "fill_second", "fingerprint")
SAME_SCORE = 1e-6  # the same pair scored two ways


def sample_articles() -> list[Article]:
    """A few dated articles: three on one event (two languages), two unrelated, one undated."""
    day = dt.date(2020, 6, 1)
    return [
        Article("q1", "A strong earthquake hit central Chile on Monday, killing 12 people and "
                "damaging buildings in Santiago. Rescue teams searched the rubble.",
                title="Quake kills 12 in Chile", lang="en", published=day),
        Article("q2", "An earthquake of magnitude 7 struck Chile on Monday. Twelve people died in "
                "Santiago, officials said.", lang="en", published=day),
        Article("q3", "Ein starkes Erdbeben hat am Montag Chile erschüttert. Zwölf Menschen "
                "starben in Santiago.", lang="de", published=day + dt.timedelta(days=1)),
        Article("f1", "The football club won the national cup final on Saturday after a penalty "
                "shoot-out in front of 60,000 fans.", lang="en", published=dt.date(2021, 3, 6)),
        Article("b1", "Le gouvernement a présenté mardi son budget pour 2022 devant le parlement "
                "à Paris.", lang="fr", published=dt.date(2021, 9, 21)),
        Article("u1", "Floods forced thousands of people from their homes in the north of the "
                "country.", lang="en"),
    ]


def sample_features() -> list[ArticleFeatures]:
    """Features of :func:`sample_articles`, prepared and encoded (hashing encoder, no model)."""
    items = [prepare(a) for a in sample_articles()]
    builder = FeatureBuilder(HashingEncoder(dim=128))
    builder.observe(items)
    return builder.build(items)


def check_scorer(scorer: Any, features: Sequence[ArticleFeatures] | None = None) -> None:
    """Check a :class:`~storyline.cluster.base.Scorer` (or a zero-argument factory of one).

    ``features``: at least three :class:`~storyline.represent.features.ArticleFeatures` to
    score (default: :func:`sample_features`, made with the hashing encoder; pass features
    from your own encoder when the scorer needs its vectors).

    Verifies: the members of the contract; ``meta`` is a mapping whose ``threshold`` and
    ``merge_threshold``, when given, are in [0, 1]; ``second`` is None or callable and can be
    assigned (the pipeline gives it one); ``score_many`` returns one finite probability in
    [0, 1] per other article (an empty array for none) and agrees with ``score_grid``;
    ``score_grid`` has shape (len(a), len(b)) and with ``need`` returns the needed pairs in
    row order; scores do not change when asked again, nor after ``fill_second`` (which
    returns None); P(x, y) = P(y, x) wherever :class:`~storyline.cluster.paircache.PairCache`
    shares one cached value between the two orders; ``fingerprint()`` is a tuple of the same
    objects on every call (another one empties the pair cache).
    """
    feats = list(features) if features is not None else sample_features()
    expect(len(feats) >= 3, "check_scorer", "needs at least three features")
    with built(scorer, "score_many") as sc:
        label = f"scorer {label_of(sc)}"
        missing = [m for m in MEMBERS if not hasattr(sc, m)]
        expect(not missing, label, f"missing members of the Scorer contract: {missing}")
        expect(isinstance(sc, Scorer), label, "not a storyline.cluster.base.Scorer")
        check_meta(sc.meta, label)
        second = sc.second
        expect(second is None or callable(second), label, "second must be None or a callable")
        try:
            sc.second = second
        except (AttributeError, TypeError) as exc:
            raise AssertionError(f"{label}: second must be assignable (the pipeline sets it): {exc}") from exc
        grid = check_grid(sc, feats, label)
        check_many(sc, feats, grid, label)
        check_need(sc, feats, grid, label)
        fill = sc.fill_second(feats[0], feats[1:])
        expect(fill is None, label, f"fill_second must return None, got {type(fill).__name__}")
        expect(
            np.allclose(probabilities(sc.score_grid(feats, feats), label, "score_grid"), grid,
                        atol=SAME_SCORE),
            label, "scores changed after fill_second, or when asked again",
        )
        check_symmetry(grid, feats, label)
        check_fingerprint(sc, label)


def check_meta(meta: Any, label: str) -> None:
    expect(isinstance(meta, Mapping), label, f"meta must be a Mapping, got {type(meta).__name__}")
    for key in ("threshold", "merge_threshold"):
        if key in meta:
            v = meta[key]
            expect(
                isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0,
                label, f"meta[{key!r}] must be a number in [0, 1], got {v!r}",
            )


def probabilities(out: Any, label: str, what: str) -> np.ndarray:
    """``out`` as a float array after checking it holds finite probabilities."""
    expect(isinstance(out, np.ndarray), label, f"{what} returned {type(out).__name__}, not a numpy array")
    expect(out.dtype.kind == "f", label, f"{what} returned dtype {out.dtype}, expected floats")
    expect(np.isfinite(out).all(), label, f"{what} returned NaN or infinite values")
    expect(
        ((out >= 0.0) & (out <= 1.0)).all(), label,
        f"{what} returned values outside [0, 1]: min {out.min() if out.size else 0:.4g}, "
        f"max {out.max() if out.size else 0:.4g}",
    )
    return np.asarray(out, dtype=np.float64)


def check_grid(sc: Any, feats: list[ArticleFeatures], label: str) -> np.ndarray:
    a, b = feats[: len(feats) // 2], feats
    part = probabilities(sc.score_grid(a, b), label, "score_grid(a, b)")
    expect(
        part.shape == (len(a), len(b)), label,
        f"score_grid(a, b) returned shape {part.shape}, expected ({len(a)}, {len(b)})",
    )
    grid = probabilities(sc.score_grid(feats, feats), label, "score_grid(a, a)")
    expect(
        grid.shape == (len(feats), len(feats)), label,
        f"score_grid(a, a) returned shape {grid.shape}, expected ({len(feats)}, {len(feats)})",
    )
    expect(
        np.allclose(grid[: len(a)], part, atol=SAME_SCORE), label,
        "score_grid gave a pair different probabilities in different grids",
    )
    return grid


def check_many(sc: Any, feats: list[ArticleFeatures], grid: np.ndarray, label: str) -> None:
    none = probabilities(np.asarray(sc.score_many(feats[0], [])), label, "score_many(a, [])")
    expect(none.shape == (0,), label, f"score_many(a, []) returned shape {none.shape}, expected (0,)")
    for i, f in enumerate(feats):
        others = feats[:i] + feats[i + 1 :]
        row = probabilities(sc.score_many(f, others), label, "score_many")
        expect(
            row.shape == (len(others),), label,
            f"score_many returned shape {row.shape}, expected ({len(others)},)",
        )
        want = np.delete(grid[i], i)
        expect(
            np.allclose(row, want, atol=SAME_SCORE), label,
            f"score_many({f.id!r}, ...) disagrees with score_grid: {row.round(4).tolist()} "
            f"vs {want.round(4).tolist()}",
        )


def check_need(sc: Any, feats: list[ArticleFeatures], grid: np.ndarray, label: str) -> None:
    n = len(feats)
    need = np.zeros((n, n), dtype=bool)
    need[np.triu_indices(n, 1)] = True
    need[n - 1, 0] = True
    flat = probabilities(sc.score_grid(feats, feats, need), label, "score_grid(a, b, need)")
    expect(
        flat.shape == (int(need.sum()),), label,
        f"score_grid with need returned shape {flat.shape}, expected ({int(need.sum())},): "
        "a flat array of the needed pairs",
    )
    expect(
        np.allclose(flat, grid[need], atol=SAME_SCORE), label,
        "score_grid with need must return grid[need] (the needed pairs in row order)",
    )
    nothing = np.asarray(sc.score_grid(feats, feats, np.zeros((n, n), dtype=bool)))
    expect(nothing.shape == (0,), label, f"score_grid with an empty need returned shape {nothing.shape}")


def check_symmetry(grid: np.ndarray, feats: list[ArticleFeatures], label: str) -> None:
    """The pair cache keys a pair without order unless both articles have as many sentence
    rows (sentence alignment may read from one side): there the scorer must be symmetric."""
    rows = [0 if f.sents is None else len(f.sents) for f in feats]
    for i in range(len(feats)):
        for j in range(i + 1, len(feats)):
            if rows[i] == rows[j] and rows[i] > 0:
                continue
            expect(
                abs(grid[i, j] - grid[j, i]) <= SAME_SCORE, label,
                f"P({feats[i].id}, {feats[j].id}) = {grid[i, j]:.4f} but P({feats[j].id}, "
                f"{feats[i].id}) = {grid[j, i]:.4f}: the pair cache shares one value between "
                "the two orders (unless both have as many sentence rows)",
            )


def check_fingerprint(sc: Any, label: str) -> None:
    one, two = sc.fingerprint(), sc.fingerprint()
    expect(isinstance(one, tuple), label, f"fingerprint() must return a tuple, got {type(one).__name__}")
    expect(
        len(one) == len(two) and all(x is y for x, y in zip(one, two, strict=True)), label,
        "fingerprint() must return the same objects on every call (the pair cache is emptied "
        "whenever they change)",
    )
