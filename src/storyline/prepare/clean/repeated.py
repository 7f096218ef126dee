"""Per-source repeated-line filter: learns lines a source repeats in many of its articles."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["RepeatedLineFilter"]

_NONWORD = re.compile(r"[\W_]+")


def _key(line: str) -> str:
    """A line's identity: case-folded, punctuation and spaces removed."""
    return _NONWORD.sub(" ", line.casefold()).strip()


class RepeatedLineFilter:
    """Learns, per source, lines that recur across that source's articles and removes them.

    A line is boilerplate for a source once it appears in at least ``min_count`` articles and
    in at least ``min_share`` of them, after ``min_articles`` articles of the source were seen.
    Lines longer than ``max_line_chars`` are never learned (real sentences rarely repeat
    verbatim, and long repeated ones are usually quotes worth keeping). Articles without a
    source share the ``None`` bucket.

    >>> f = RepeatedLineFilter()
    >>> for i in range(4):
    ...     f.observe("site", f"Story {i} text.\\nFollow us on Mastodon")
    >>> f.filter("site", "New story.\\nFollow us on Mastodon")
    'New story.'
    >>> RepeatedLineFilter.from_json(f.to_json()).filter("site", "x\\nFollow us on Mastodon")
    'x'
    """

    def __init__(
        self,
        min_count: int = 3,
        min_share: float = 0.5,
        min_articles: int = 4,
        max_line_chars: int = 300,
        max_lines_per_source: int = 5000,
    ) -> None:
        self.min_count = min_count
        self.min_share = min_share
        self.min_articles = min_articles
        self.max_line_chars = max_line_chars
        self.max_lines_per_source = max_lines_per_source
        self.counts_: dict[str, Counter[str]] = {}
        self.n_articles_: Counter[str] = Counter()

    @staticmethod
    def _bucket(source: str | None) -> str:
        return source or ""

    def _keys(self, text: str) -> set[str]:
        keys: set[str] = set()
        for line in text.split("\n"):
            line = line.strip()
            if line and len(line) <= self.max_line_chars:
                k = _key(line)
                if k:
                    keys.add(k)
        return keys

    def observe(self, source: str | None, text: str) -> None:
        """Count the distinct lines of one article of ``source``."""
        bucket = self._bucket(source)
        counts = self.counts_.setdefault(bucket, Counter())
        counts.update(self._keys(text))
        self.n_articles_[bucket] += 1
        if len(counts) > self.max_lines_per_source:
            # Keep memory bounded: forget lines seen only once (deterministic).
            for k in [k for k, c in counts.items() if c <= 1]:
                del counts[k]

    def repeated(self, source: str | None) -> set[str]:
        """The line keys currently considered boilerplate for ``source``."""
        bucket = self._bucket(source)
        n = self.n_articles_.get(bucket, 0)
        if n < self.min_articles:
            return set()
        threshold = max(self.min_count, self.min_share * n)
        return {k for k, c in self.counts_.get(bucket, Counter()).items() if c >= threshold}

    def filter(self, source: str | None, text: str) -> str:
        """``text`` without the lines learned as repeated for ``source``."""
        bad = self.repeated(source)
        if not bad:
            return text
        out = [ln for ln in text.split("\n") if not (ln.strip() and _key(ln) in bad)]
        while out and not out[-1].strip():
            out.pop()
        result = "\n".join(out)
        result = re.sub(r"\n{3,}", "\n\n", result)
        return result.strip("\n")

    def to_json(self) -> str:
        """The learned state and parameters as a JSON string (sorted, deterministic)."""
        state: dict[str, Any] = {
            "params": {
                "min_count": self.min_count,
                "min_share": self.min_share,
                "min_articles": self.min_articles,
                "max_line_chars": self.max_line_chars,
                "max_lines_per_source": self.max_lines_per_source,
            },
            "n_articles": dict(sorted(self.n_articles_.items())),
            "counts": {b: dict(sorted(c.items())) for b, c in sorted(self.counts_.items())},
        }
        return json.dumps(state, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, data: str | dict[str, Any]) -> RepeatedLineFilter:
        """Rebuild a filter saved with :meth:`to_json`."""
        state = json.loads(data) if isinstance(data, str) else data
        obj = cls(**state.get("params", {}))
        obj.n_articles_ = Counter({k: int(v) for k, v in state.get("n_articles", {}).items()})
        obj.counts_ = {b: Counter(c) for b, c in state.get("counts", {}).items()}
        return obj
