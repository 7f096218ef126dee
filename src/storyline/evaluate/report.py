"""Evaluation report: all metrics in one JSON-ready dict, a text table, and error analysis.

>>> gold = {"a": "x", "b": "x", "c": "y"}
>>> result = evaluate({"a": 1, "b": 1, "c": 2}, gold, langs={"a": "en", "b": "fr", "c": "en"})
>>> result["bcubed"], result["cross_lingual"]
({'p': 1.0, 'r': 1.0, 'f1': 1.0}, {'overall': 1.0, 'pairs': {'en-fr': 1.0}})
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from typing import Any

from .metrics import (
    PRF,
    UNKNOWN_LANG,
    ami,
    ari,
    bcubed,
    cluster_stats,
    cross_lingual_recall,
    pairwise,
    per_language,
)

__all__ = ["error_analysis", "evaluate", "format_table"]

Labels = Mapping[str, Hashable]

_UNASSIGNED = "(unassigned)"
_MAX_ARTICLES_PER_PART = 5
_SNIPPET = 80


def _prf(score: PRF) -> dict[str, float]:
    return {"p": score.precision, "r": score.recall, "f1": score.f1}


def evaluate(pred: Labels, gold: Labels, langs: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every metric of :mod:`storyline.evaluate.metrics` in one JSON-serialisable dict.

    Keys: ``bcubed`` and ``pairwise`` (``{p, r, f1}``), ``ari``, ``ami``, ``n_items``,
    ``n_gold``, ``n_pred``, ``singleton_share``, ``per_language`` (``{lang: {p, r, f1, n}}``,
    empty without ``langs``) and ``cross_lingual`` (``{overall, pairs}``; ``overall`` is None
    when gold has no cross-lingual pair).
    """
    stats = cluster_stats(pred, gold)
    result: dict[str, Any] = {
        "bcubed": _prf(bcubed(pred, gold)),
        "pairwise": _prf(pairwise(pred, gold)),
        "ari": ari(pred, gold),
        "ami": ami(pred, gold),
        "n_items": stats.n_items,
        "n_gold": stats.n_gold,
        "n_pred": stats.n_pred,
        "singleton_share": stats.singleton_share,
        "per_language": {},
        "cross_lingual": {"overall": None, "pairs": {}},
    }
    if langs is not None:
        counts = Counter(langs.get(item) or UNKNOWN_LANG for item in gold)
        result["per_language"] = {
            lang: {**_prf(score), "n": counts[lang]}
            for lang, score in per_language(pred, gold, langs).items()
        }
        cross = cross_lingual_recall(pred, gold, langs)
        overall = cross.pop("overall", None)
        result["cross_lingual"] = {"overall": overall, "pairs": cross}
    return result


def format_table(result: Mapping[str, Any]) -> str:
    """A compact plain-text table of an :func:`evaluate` result.

    >>> print(format_table(evaluate({"a": 1, "b": 1}, {"a": "x", "b": "x"})))
    metric        P      R     F1
    B3        1.000  1.000  1.000
    pairwise  1.000  1.000  1.000
    ARI 1.000  AMI 1.000
    items 2  gold clusters 1  predicted clusters 1  singletons 0.0%
    """
    lines = [f"{'metric':<8} {'P':>6} {'R':>6} {'F1':>6}"]
    for name, key in (("B3", "bcubed"), ("pairwise", "pairwise")):
        s = result[key]
        lines.append(f"{name:<8} {s['p']:6.3f} {s['r']:6.3f} {s['f1']:6.3f}")
    ari_, ami_ = (round(result[k], 3) + 0.0 for k in ("ari", "ami"))  # no "-0.000"
    lines.append(f"ARI {ari_:.3f}  AMI {ami_:.3f}")
    lines.append(
        f"items {result.get('n_items', '?')}  gold clusters {result['n_gold']}  "
        f"predicted clusters {result['n_pred']}  singletons {result['singleton_share']:.1%}"
    )
    per_lang = result.get("per_language") or {}
    if per_lang:
        lines.append("")
        lines.append(f"{'lang':<8} {'B3 P':>6} {'B3 R':>6} {'F1':>6} {'n':>6}")
        for lang, s in per_lang.items():
            lines.append(f"{lang:<8} {s['p']:6.3f} {s['r']:6.3f} {s['f1']:6.3f} {s['n']:6d}")
    cross = result.get("cross_lingual") or {}
    if cross.get("overall") is not None:
        lines.append("")
        lines.append(f"cross-lingual pair recall {cross['overall']:.3f}")
        for pair, recall in cross["pairs"].items():
            lines.append(f"  {pair:<8} {recall:.3f}")
    return "\n".join(lines)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _describe(item: str, articles: Mapping[str, Mapping[str, Any]]) -> str:
    """One Markdown list line for an article: id, date, language, title or text start."""
    art = articles.get(item) or {}
    head = str(art.get("title") or "").strip()
    if not head:
        text = " ".join(str(art.get("text") or "").split())
        head = text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")
    date = str(art.get("published") or "").strip() or "no date"
    lang = str(art.get("lang") or "").strip() or "?"
    head = head.replace("|", "\\|") or "(no text)"
    return f"  - `{item}` {date} [{lang}] {head}"


def _part_lines(
    label: str, kind: str, items: list[str], articles: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    lines = [f"- {kind} `{label}` ({len(items)} articles)"]
    shown = sorted(items, key=lambda i: (str((articles.get(i) or {}).get("published") or ""), i))
    lines += [_describe(i, articles) for i in shown[:_MAX_ARTICLES_PER_PART]]
    if len(shown) > _MAX_ARTICLES_PER_PART:
        lines.append(f"  - … and {len(shown) - _MAX_ARTICLES_PER_PART} more")
    return lines


def _groups(outer: Mapping[str, str], inner: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    """``{outer label: {inner label: [ids]}}`` over the ids of ``outer``."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for item, label in outer.items():
        out[label][inner[item]].append(item)
    return out


def _ranked(
    groups: Mapping[str, Mapping[str, list[str]]],
) -> list[tuple[int, str, Mapping[str, list[str]]]]:
    """Groups with several parts as (pairs lost, label, parts), worst first."""
    scored = []
    for label, parts in groups.items():
        if len(parts) < 2:
            continue
        size = sum(len(v) for v in parts.values())
        cost = _pairs(size) - sum(_pairs(len(v)) for v in parts.values())
        scored.append((cost, label, parts))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return scored


def error_analysis(
    pred: Labels,
    gold: Labels,
    articles: Mapping[str, Mapping[str, Any]],
    top: int = 10,
) -> str:
    """A Markdown report of the worst over-merges and the worst splits.

    An over-merge is a predicted cluster mixing several gold events, ranked by the wrong pairs
    it creates; a split is a gold event spread over several predicted clusters, ranked by the
    pairs it misses. Each part is listed with its articles (date, language, title or the start
    of the text). ``articles`` maps id to the article dict (as from ``load_articles``);
    articles missing from ``pred`` appear as ``(unassigned)`` singletons.
    """
    gold_s = {item: str(label) for item, label in gold.items()}
    pred_s = {item: (str(pred[item]) if item in pred else f"{_UNASSIGNED} {item}") for item in gold}
    all_merges = _ranked(_groups(pred_s, gold_s))
    all_splits = _ranked(_groups(gold_s, pred_s))
    wrong = sum(cost for cost, _, _ in all_merges)
    missed = sum(cost for cost, _, _ in all_splits)
    merges, splits = all_merges[:top], all_splits[:top]
    lines = [
        "# Error analysis",
        "",
        (
            f"{len(gold_s)} articles, {len(set(gold_s.values()))} gold events, "
            f"{len(set(pred_s.values()))} predicted clusters; "
            f"{wrong} wrong pairs from over-merges, {missed} missed pairs from splits."
        ),
        "",
        f"## Worst over-merges (top {len(merges)})",
        "",
    ]
    if not merges:
        lines += ["No predicted cluster mixes gold events.", ""]
    for cost, label, parts in merges:
        size = sum(len(v) for v in parts.values())
        lines += [
            (
                f"### Predicted `{label}`: {size} articles, {len(parts)} gold events, "
                f"{cost} wrong pairs"
            ),
            "",
        ]
        for part, items in sorted(parts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            lines += _part_lines(part, "gold", items, articles)
        lines.append("")
    lines += [f"## Worst splits (top {len(splits)})", ""]
    if not splits:
        lines += ["No gold event is split.", ""]
    for cost, label, parts in splits:
        size = sum(len(v) for v in parts.values())
        lines += [
            (
                f"### Gold `{label}`: {size} articles in {len(parts)} predicted clusters, "
                f"{cost} missed pairs"
            ),
            "",
        ]
        for part, items in sorted(parts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            lines += _part_lines(part, "predicted", items, articles)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
