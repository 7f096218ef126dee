"""Article similarity: a graded score in [0, 1] for two texts.

1 = the two articles report the same event (SemEval-2022 Task 8 "very similar"), about 2/3 =
same event told differently or a close follow-up, about 1/3 = same topic or kind of event,
0 = unrelated. The score is :class:`~storyline.cluster.graded.GradedModel`'s prediction
from the pair's features (:func:`~storyline.cluster.graded.graded_row`), shrunk towards the
same-topic level when the two publication dates are far apart. ``storyline similarity
--pairs PAIRS.jsonl --out SCORES.jsonl`` and ``POST /api/similarity`` wrap
:class:`Similarity`; pairs are read and scored in chunks, so a file of any length streams.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MissingExtra
from ..model import Article, Processed
from ..prepare.article import prepare
from ..prepare.dates import parse_date
from ..represent.base import Encoder
from ..represent.builder import MAX_ENCODED, FeatureBuilder
from ..represent.encoder import E5Encoder, USEEncoder
from .graded import E5_SENTENCES, GradedModel, e5_text, graded_row, lang_pair

log = logging.getLogger(__name__)

CHUNK_SIZE = 256  # pairs scored together: one encoder batch, vectors dropped after


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


def pair_from_record(row: Any, default_id: str) -> Pair:
    """A :class:`Pair` from a decoded JSON record; ``ValueError`` / ``TypeError`` when bad."""
    if not isinstance(row, dict):
        raise TypeError("not a JSON object")
    pid = str(row.get("pair_id") or row.get("id") or default_id)
    return Pair(pid, _article(row, "1", pid), _article(row, "2", pid))


def read_pairs(lines: Iterable[str], origin: str = "pairs") -> Iterator[Pair | tuple[str, str]]:
    """Pairs from JSONL lines, lazily; a bad line yields ``(origin:line, reason)`` instead."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield pair_from_record(json.loads(line), str(n))
        except (ValueError, TypeError) as exc:
            yield (f"{origin}:{n}", str(exc))


class _Memo:
    """An encoder answering from vectors computed beforehand for one chunk of pairs."""

    def __init__(self, inner: Encoder, texts: Sequence[str]) -> None:
        self.name = getattr(inner, "name", "memo")
        self.dim = inner.dim
        self._covers = getattr(inner, "covers", None)
        uniq = list(dict.fromkeys(texts))
        vecs = inner.encode(uniq) if uniq else np.zeros((0, inner.dim), np.float32)
        self.vec = dict(zip(uniq, np.asarray(vecs, np.float32), strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.stack(texts)

    def stack(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.vec[t] for t in texts])

    def covers(self, lang: str) -> bool:
        return bool(self._covers(lang)) if self._covers else True


def _use_texts(p: Processed) -> tuple[list[str], str]:
    """The texts :class:`FeatureBuilder` encodes for an article, and its title text."""
    sents = p.sentences[:MAX_ENCODED] or [p.title or p.clean_text[:500] or " "]
    return sents, p.title or sents[0]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(np.asarray(a, np.float64), np.asarray(b, np.float64)))


def _sents(p: Processed) -> list[str]:
    """The sentences whose e5 vectors are aligned (pairs with a language outside USE)."""
    return p.sentences[:E5_SENTENCES]


def whole_text(a: Article) -> str:
    """Title and text as given, as one string (for the ``use_cos`` feature)."""
    return f"{a.title or ''}\n{a.text}"


def _copies(p: Pair) -> bool:
    """Whether the two sides say the same words (case and spacing aside; a title missing on
    one side is not a difference)."""

    def words(x: str | None) -> str:
        return " ".join((x or "").split()).casefold()

    same_title = not p.a.title or not p.b.title or words(p.a.title) == words(p.b.title)
    return same_title and bool(words(p.a.text)) and words(p.a.text) == words(p.b.text)


def _gap(p: Pair) -> float | None:
    if p.a.published is None or p.b.published is None:
        return None
    return float(abs((p.a.published - p.b.published).days))


class Similarity:
    """Graded similarity of article pairs (see the module docstring for the scale).

    ``encoder``: the sentence encoder (default multilingual USE); ``e5``: the encoder for the
    ``e5_cos`` feature (default multilingual-e5-small; ``False``: none, ``lead_cos`` stands in,
    as when the ``e5`` extra is not installed); ``model``: the graded model (default the one
    shipped). Every pair's score depends on that pair alone (term weights are counted over
    the two texts), so chunking and batching never change a score.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        e5: Encoder | bool | None = None,
        model: GradedModel | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.encoder = encoder or USEEncoder()
        self.e5: Encoder | None = (E5Encoder() if e5 in (None, True) else e5) or None  # type: ignore[assignment]
        self._model = model
        self.chunk_size = max(1, int(chunk_size))

    @property
    def model(self) -> GradedModel:
        """The graded model (the shipped one is loaded on first use)."""
        if self._model is None:
            self._model = GradedModel.load()
        return self._model

    @model.setter
    def model(self, model: GradedModel) -> None:
        self._model = model

    def _e5_vectors(self, texts: Sequence[str]) -> _Memo | None:
        if self.e5 is None:
            return None
        try:
            return _Memo(self.e5, texts)
        except (ImportError, MissingExtra) as exc:  # the optional e5 extra is missing
            log.warning("e5 encoder unavailable, lead_cos stands in for e5_cos: %s", exc)
            self.e5 = None
            return None

    def features(
        self, pairs: Sequence[Pair], e5_align: bool | None = None, e5_chars: int | None = None
    ) -> np.ndarray:
        """The graded feature rows of ``pairs`` (one encoder batch for all of them).

        ``e5_align``: sentence alignment from e5 vectors for every pair (True), for none
        (False), or for the pairs with a language outside the sentence encoder (None).
        ``e5_chars``: characters of each article the e5 encoder reads (default: the model's).
        """
        return self.featurize(pairs, e5_align, e5_chars)[0]

    def featurize(
        self, pairs: Sequence[Pair], e5_align: bool | None = None, e5_chars: int | None = None
    ) -> tuple[np.ndarray, list[str]]:
        """:meth:`features` and the language pair of each (:func:`~.graded.lang_pair` of the
        languages given or detected), which the model's cosine baselines read."""
        chars = self.model.e5_chars if e5_chars is None else int(e5_chars)
        prepared = [(prepare(p.a), prepare(p.b)) for p in pairs]
        use_texts: list[str] = []
        for pa, pb in prepared:
            for x in (pa, pb):
                sents, title = _use_texts(x)
                use_texts += [*sents, title, whole_text(x.article)]
        memo = _Memo(self.encoder, use_texts)
        built = []
        for pa, pb in prepared:
            builder = FeatureBuilder(memo)  # term weights counted over this pair only
            builder.observe([pa, pb])
            built.append(builder.build([pa, pb]))
        align = [
            bool(e5_align) if e5_align is not None else not (fa.covered and fb.covered)
            for fa, fb in built
        ]
        e5_texts = [e5_text(x, chars) for pair in prepared for x in pair]
        e5_texts += [
            t
            for pair, al in zip(prepared, align, strict=True)
            if al
            for x in pair
            for t in _sents(x)
        ]
        e5 = self._e5_vectors(e5_texts)
        rows = []
        for (pa, pb), (fa, fb), al in zip(prepared, built, align, strict=True):
            title_cos = _cos(*(memo.vec[_use_texts(x)[1]] for x in (pa, pb)))
            use_cos = _cos(*(memo.vec[whole_text(x.article)] for x in (pa, pb)))
            sents = None
            if e5 is not None:
                e5_cos = _cos(e5.vec[e5_text(pa, chars)], e5.vec[e5_text(pb, chars)])
                if al:
                    sents = (e5.stack(_sents(pa)), e5.stack(_sents(pb)))
            else:
                e5_cos = _cos(fa.lead, fb.lead)
            rows.append(graded_row(pa, pb, fa, fb, use_cos, title_cos, e5_cos, sents))
        langs = [lang_pair(pa.lang, pb.lang) for pa, pb in prepared]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), -1), langs

    def _score_chunk(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        rows, langs = self.featurize(pairs)
        scores = self.model.scores(rows, [_gap(p) for p in pairs], langs)
        # a text and a copy of it are one report: the model, which never saw a copy in its
        # training pairs, scored such pairs 0.73-0.77
        return [1.0 if _copies(p) else float(s) for p, s in zip(pairs, scores, strict=True)]

    def score_pairs(self, pairs: Iterable[Pair]) -> list[float]:
        """Scores of ``pairs`` in order (scored ``chunk_size`` at a time)."""
        return [s for item, s in self.stream(pairs) if isinstance(item, Pair) and s is not None]

    def score(self, a: Article, b: Article) -> float:
        """The score of one pair of articles."""
        return self.score_pairs([Pair("pair", a, b)])[0]

    def stream(
        self, items: Iterable[Pair | tuple[str, str]]
    ) -> Iterator[tuple[Pair | tuple[str, str], float | None]]:
        """``(item, score)`` for every item in input order; problems (``(origin, reason)``,
        e.g. from :func:`read_pairs`) pass through with score None. Holds one chunk of pairs
        (and their vectors) at a time."""
        buf: list[Pair | tuple[str, str]] = []
        n_pairs = 0
        for item in items:
            buf.append(item)
            n_pairs += isinstance(item, Pair)
            if n_pairs >= self.chunk_size:
                yield from self._flush(buf)
                buf, n_pairs = [], 0
        yield from self._flush(buf)

    def _flush(
        self, buf: list[Pair | tuple[str, str]]
    ) -> Iterator[tuple[Pair | tuple[str, str], float | None]]:
        pairs = [x for x in buf if isinstance(x, Pair)]
        scores = iter(self._score_chunk(pairs))
        for item in buf:
            yield item, (next(scores) if isinstance(item, Pair) else None)
