"""Clustering metrics against known values, scikit-learn and brute force."""

from __future__ import annotations

import random
from itertools import combinations

import pytest
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from storyline.evaluate import (
    PRF,
    ami,
    ari,
    bcubed,
    cluster_stats,
    cross_lingual_recall,
    pairwise,
    per_language,
)


def _labels(*clusters: str) -> dict[str, str]:
    """``_labels("12345", "67")`` -> {"1": "c0", …, "6": "c1", "7": "c1"}."""
    return {item: f"c{k}" for k, members in enumerate(clusters) for item in members}


# Bagga & Baldwin (1998), figure: truth {1..5} {6,7} {8,9,A,B,C}.
TRUTH = _labels("12345", "67", "89ABC")


def test_bagga_baldwin_response_a_merges_small_and_large_clusters() -> None:
    pred = _labels("12345", "6789ABC")
    score = bcubed(pred, TRUTH)
    # per-element precisions 5 x 1 + 2 x 2/7 + 5 x 5/7, over 12 items = 16/21
    assert score.precision == pytest.approx((5 + 4 / 7 + 25 / 7) / 12)
    assert score.precision == pytest.approx(16 / 21)
    assert round(score.precision, 2) == 0.76
    assert score.recall == 1.0
    assert score.f1 == pytest.approx(2 * (16 / 21) / (16 / 21 + 1))


def test_bagga_baldwin_response_b_merges_two_large_clusters() -> None:
    pred = _labels("1234589ABC", "67")
    score = bcubed(pred, TRUTH)
    assert score.precision == pytest.approx((5 * 5 / 10 + 2 * 1 + 5 * 5 / 10) / 12)
    assert round(score.precision, 3) == 0.583
    assert score.recall == 1.0


def test_pairwise_small_case_by_hand() -> None:
    gold = _labels("abc", "de")  # gold pairs: ab ac bc de
    pred = _labels("ab", "cde")  # predicted pairs: ab cd ce de; correct: ab de
    assert pairwise(pred, gold) == PRF(0.5, 0.5, 0.5)
    # B3 by hand: precision (1 + 1 + 1/3 + 2/3 + 2/3) / 5, recall (2/3 + 2/3 + 1/3 + 1 + 1) / 5
    score = bcubed(pred, gold)
    assert score.precision == pytest.approx((3 + 2 / 3) / 5)
    assert score.recall == pytest.approx((2 + 5 / 3) / 5)


def _brute_pairwise(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float]:
    ids = list(gold)
    p_pairs = {frozenset(x) for x in combinations(ids, 2) if pred[x[0]] == pred[x[1]]}
    g_pairs = {frozenset(x) for x in combinations(ids, 2) if gold[x[0]] == gold[x[1]]}
    both = len(p_pairs & g_pairs)
    return (both / len(p_pairs) if p_pairs else 1.0, both / len(g_pairs) if g_pairs else 1.0)


def _brute_bcubed(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float]:
    ids = list(gold)
    prec = rec = 0.0
    for i in ids:
        same_p = [j for j in ids if pred[j] == pred[i]]
        same_g = [j for j in ids if gold[j] == gold[i]]
        both = [j for j in same_p if gold[j] == gold[i]]
        prec += len(both) / len(same_p)
        rec += len(both) / len(same_g)
    return prec / len(ids), rec / len(ids)


@pytest.mark.parametrize("seed", range(5))
def test_contingency_counts_match_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    ids = [f"d{i}" for i in range(40)]
    gold = {i: f"g{rng.randrange(8)}" for i in ids}
    pred = {i: f"p{rng.randrange(6)}" for i in ids}
    pw, b3 = pairwise(pred, gold), bcubed(pred, gold)
    assert (pw.precision, pw.recall) == pytest.approx(_brute_pairwise(pred, gold))
    assert (b3.precision, b3.recall) == pytest.approx(_brute_bcubed(pred, gold))
    assert ari(pred, gold) == pytest.approx(
        adjusted_rand_score(list(gold.values()), list(pred.values()))
    )
    assert ami(pred, gold) == pytest.approx(
        adjusted_mutual_info_score(list(gold.values()), list(pred.values()))
    )


def test_perfect_prediction_scores_one_everywhere() -> None:
    pred = {item: f"other-{label}" for item, label in TRUTH.items()}  # labels differ, groups same
    for score in (bcubed(pred, TRUTH), pairwise(pred, TRUTH)):
        assert score == PRF(1.0, 1.0, 1.0)
    assert ari(pred, TRUTH) == pytest.approx(1.0)
    assert ami(pred, TRUTH) == pytest.approx(1.0)


def test_all_singletons() -> None:
    pred = {item: item for item in TRUTH}
    score = bcubed(pred, TRUTH)
    assert score.precision == 1.0
    assert score.recall == pytest.approx((5 * 1 / 5 + 2 * 1 / 2 + 5 * 1 / 5) / 12)
    assert pairwise(pred, TRUTH) == PRF(1.0, 0.0, 0.0)
    stats = cluster_stats(pred, TRUTH)
    assert (stats.n_gold, stats.n_pred, stats.singleton_share) == (3, 12, 1.0)


def test_one_big_cluster() -> None:
    pred = dict.fromkeys(TRUTH, "all")
    score = bcubed(pred, TRUTH)
    assert score.recall == 1.0
    assert score.precision == pytest.approx((5 * 5 + 2 * 2 + 5 * 5) / 12 / 12)
    assert pairwise(pred, TRUTH).precision == pytest.approx((10 + 1 + 10) / 66)
    assert ari(pred, TRUTH) == pytest.approx(0.0)
    assert cluster_stats(pred, TRUTH).singleton_share == 0.0


def test_missing_predictions_are_singletons_and_unknown_ids_ignored() -> None:
    gold = _labels("ab", "c")
    pred = {"a": "x", "zzz": "x", "yyy": "y"}  # b, c missing; zzz, yyy unknown
    singletons = {"a": "1", "b": "2", "c": "3"}
    assert bcubed(pred, gold) == bcubed(singletons, gold)
    assert pairwise(pred, gold) == pairwise(singletons, gold)
    assert ari(pred, gold) == ari(singletons, gold)
    assert cluster_stats(pred, gold).n_pred == 3
    # two missing ids must not fall into one shared "missing" cluster
    assert bcubed({}, _labels("ab")).precision == 1.0


def test_empty_and_single_item() -> None:
    assert bcubed({}, {}) == PRF(1.0, 1.0, 1.0)
    assert pairwise({}, {}) == PRF(1.0, 1.0, 1.0)
    assert ari({}, {}) == 1.0 and ami({}, {}) == 1.0
    assert cluster_stats({}, {}).n_pred == 0
    assert per_language({}, {}, {}) == {}
    assert cross_lingual_recall({}, {}, {}) == {}
    one = {"a": "x"}
    assert bcubed(one, one) == PRF(1.0, 1.0, 1.0)
    assert pairwise({}, one) == PRF(1.0, 1.0, 1.0)  # no pair to find, none predicted
    assert ari(one, one) == 1.0


def test_prf_as_dict_and_zero_f1() -> None:
    assert PRF.of(0.0, 0.0).as_dict() == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert PRF.of(0.5, 1.0).f1 == pytest.approx(2 / 3)


def test_per_language_uses_full_clusters() -> None:
    gold = _labels("abc", "d")
    langs = {"a": "en", "b": "fr", "c": "fr", "d": "en"}
    pred = _labels("ab", "cd")
    out = per_language(pred, gold, langs)
    assert list(out) == ["en", "fr"]
    # a: P 1, R 2/3; d: P 1/2, R 1  |  b: P 1, R 2/3; c: P 1/2, R 1/3
    assert out["en"].precision == pytest.approx(0.75)
    assert out["en"].recall == pytest.approx((2 / 3 + 1) / 2)
    assert out["fr"].precision == pytest.approx(0.75)
    assert out["fr"].recall == pytest.approx(0.5)
    # items without a language are grouped under "und"
    assert list(per_language(pred, gold, {"a": "en"})) == ["en", "und"]


def test_cross_lingual_recall_by_pair() -> None:
    gold = _labels("abcd", "ef")
    langs = {"a": "en", "b": "fr", "c": "fr", "d": "de", "e": "en", "f": "en"}
    pred = _labels("abd", "c", "ef")
    out = cross_lingual_recall(pred, gold, langs)
    # cross pairs: en-fr {ab, ac}, de-en {ad}, de-fr {bd, cd}; found: ab, ad, bd
    assert list(out) == ["overall", "de-en", "de-fr", "en-fr"]
    assert out["overall"] == pytest.approx(3 / 5)
    assert out["de-en"] == 1.0
    assert out["de-fr"] == pytest.approx(0.5)
    assert out["en-fr"] == pytest.approx(0.5)
    assert cross_lingual_recall(pred, gold, dict.fromkeys(gold, "en")) == {}
