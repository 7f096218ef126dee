"""Article similarity: a score in [0, 1] for two texts, 1 = the same event.

The same pair features and scorer that the clusterer uses, blended with the embedding cosine
so the score is graded (copies > same event > same topic > unrelated) rather than a yes/no
probability. ``storyline similarity --pairs PAIRS.jsonl --out SCORES.jsonl`` wraps it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Article
from ..prepare.article import prepare
from ..prepare.dates import parse_date
from ..represent.base import Encoder
from ..represent.builder import FeatureBuilder
from ..represent.encoder import LazySecondVectors, USEEncoder
from .scorer import PairScorer, unit_cos

# Weight of the scorer's probability against the rescaled document cosine (see docs/scorer.md).
PROB_WEIGHT = 0.7
COS_FLOOR, COS_CEIL = 0.2, 0.95


@dataclass(frozen=True)
class Pair:
    pair_id: str
    a: Article
    b: Article


def _article(row: Mapping[str, Any], side: str, pair_id: str) -> Article:
    text = row.get(f"text{side}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"pair {pair_id}: text{side} is missing or empty")
    published, precision = parse_date(row.get(f"published{side}"))
    return Article(
        id=f"{pair_id}#{side}",
        text=text,
        title=row.get(f"title{side}") or None,
        lang=row.get(f"lang{side}") or None,
        published=published,
        published_precision=precision if precision != "none" else "day",
    )


def read_pairs(lines: Iterable[str], origin: str = "pairs") -> Iterator[Pair | tuple[str, str]]:
    """Pairs from JSONL lines; a bad line yields ``(origin:line, reason)`` instead."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise TypeError("not a JSON object")
            pid = str(row.get("pair_id") or row.get("id") or n)
            yield Pair(pid, _article(row, "1", pid), _article(row, "2", pid))
        except (ValueError, TypeError) as exc:
            yield (f"{origin}:{n}", str(exc))


class Similarity:
    """Scores article pairs with the clusterer's pair scorer."""

    def __init__(self, encoder: Encoder | None = None, scorer: PairScorer | None = None) -> None:
        self.encoder = encoder or USEEncoder()
        self.scorer = scorer or PairScorer(second=LazySecondVectors())

    def score_pairs(self, pairs: list[Pair]) -> list[float]:
        items = [prepare(x) for p in pairs for x in (p.a, p.b)]
        builder = FeatureBuilder(self.encoder)
        builder.observe(items)  # IDF over every text of the batch
        feats = builder.build(items)
        out = []
        for i in range(0, len(feats), 2):
            a, b = feats[i], feats[i + 1]
            prob = self.scorer.score(a, b)
            cos = unit_cos(a.doc, b.doc)
            if not (a.covered and b.covered) and self.scorer.second is not None:
                va, vb = self.scorer.second(a), self.scorer.second(b)
                if va is not None and vb is not None:
                    cos = float(va @ vb)
            scaled = min(1.0, max(0.0, (cos - COS_FLOOR) / (COS_CEIL - COS_FLOOR)))
            out.append(round(PROB_WEIGHT * prob + (1 - PROB_WEIGHT) * scaled, 4))
        return out
