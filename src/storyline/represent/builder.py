"""Features for the clusterer: batched, cached encoding of prepared articles.

``FeatureBuilder`` encodes in batches with a cache of vectors per content hash (in the
store), so nothing is encoded twice.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..model import Processed
from ..store.base import Store
from .base import Encoder
from .features import (
    ArticleFeatures,
    SparseVec,
    TermCounts,
    doc_vector,
    lead_text,
    lead_years,
    name_keys,
    numbers_in,
    terms_of,
    tfidf_weights,
)


def vector_kind(encoder_name: str, what: str) -> str:
    """The kind under which a store caches the vectors ``what`` made by ``encoder_name``."""
    return f"{encoder_name}:{what}"


def sentence_kind(store: Store) -> str:
    """The kind of the sentence vectors in ``store``: those of the encoder that last
    clustered into it (the default encoder's for a store that does not say)."""
    return vector_kind(store.get_state("encoder") or DEFAULT_ENCODER, "sents")


DEFAULT_ENCODER = "use-m3"  # USEEncoder.name
MAX_SENTENCES = 8  # sentence vectors kept in memory per article (float16) for alignment
MAX_ENCODED = 40  # sentences encoded for the document vector


@dataclass
class VectorPlan:
    """Articles to featurize: their cached vectors and the texts still to encode."""

    items: Sequence[Processed]
    cached_s: dict[str, np.ndarray]
    cached_t: dict[str, np.ndarray]
    texts: list[str] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # hash, first, end


def second_text(p: Processed, covered: bool = False) -> str:
    """What the second encoder reads of an article: the lead of an article in a language the
    first encoder does not cover; a shorter lead of a ``covered`` one, which is read only to
    compare it with such articles (the second encoder's cost grows with the text's length:
    half the characters, half the time, and the same dev-set results)."""
    return lead_text(p.title, p.sentences, n=3)[: 200 if covered else 400]


class FeatureBuilder:
    """Builds :class:`ArticleFeatures` with batched, cached encoding."""

    def __init__(self, encoder: Encoder, store: Store | None = None) -> None:
        self.encoder = encoder
        self.store = store
        self.counts = TermCounts()
        self._terms: dict[str, object] = {}

    def kind(self, what: str) -> str:
        """The store's vector kind for ``what`` ("sents", "title") of this encoder: vectors
        are cached per encoder, so another encoder never reads this one's vectors."""
        return vector_kind(self.encoder.name, what)

    def observe(self, items: Sequence[Processed], keep: bool = True) -> None:
        """Count terms of new articles so IDF weights follow the corpus.

        ``keep``: hold each article's term counts until its features are built (saves
        counting twice; large runs pass False and count again at build time).
        """
        for p in items:
            terms = terms_of(f"{p.title}\n{p.clean_text}")
            if keep:
                self._terms[p.id] = terms
            self.counts.add(p.lang, terms)

    def forget(self, article_id: str) -> None:
        """Drop the term counts kept for an article until its features are built."""
        self._terms.pop(article_id, None)

    def plan(self, items: Sequence[Processed]) -> VectorPlan:
        """What must be encoded for these articles (cached vectors are looked up now)."""
        hashes = [p.article.hash for p in items]
        cached_s = self.store.get_vectors(hashes, self.kind("sents")) if self.store else {}
        cached_t = self.store.get_vectors(hashes, self.kind("title")) if self.store else {}
        plan = VectorPlan(items, cached_s, cached_t)
        seen: set[str] = set()
        for p in items:
            h = p.article.hash
            if h in seen or (h in cached_s and h in cached_t):
                continue
            seen.add(h)
            sents = p.sentences[:MAX_ENCODED] or [p.title or p.clean_text[:500] or " "]
            start = len(plan.texts)
            plan.texts.extend(sents)
            plan.texts.append(p.title or sents[0])
            plan.spans.append((h, start, len(plan.texts)))
        return plan

    def finish(
        self, plan: VectorPlan, mat: np.ndarray | None, weights: Mapping[str, SparseVec] | None = None
    ) -> list[ArticleFeatures]:
        """Features of a plan's articles, given the encoder's output for ``plan.texts``
        (``weights``: tf-idf weights known for some of them)."""
        new_s, new_t = self.vectors(plan, mat)
        if plan.texts and self.store is not None:
            self.store.put_vectors(new_s, self.kind("sents"))
            self.store.put_vectors(new_t, self.kind("title"))
        sents_of = {**plan.cached_s, **new_s}
        title_of = {**plan.cached_t, **new_t}
        out = []
        for p in plan.items:
            h = p.article.hash
            known = weights.get(p.id) if weights else None
            if known is not None:
                out.append(self.features(p, sents_of[h], title_of[h], None, known))
                continue
            terms = self._terms.pop(p.id, None) or terms_of(f"{p.title}\n{p.clean_text}")
            out.append(self.features(p, sents_of[h], title_of[h], terms))  # type: ignore[arg-type]
        return out

    def vectors(
        self, plan: VectorPlan, mat: np.ndarray | None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The new sentence and title vectors of a plan's articles, by content hash, from the
        encoder's output for ``plan.texts`` (what a store caches under :meth:`kind`)."""
        new_s: dict[str, np.ndarray] = {}
        new_t: dict[str, np.ndarray] = {}
        if plan.texts:
            if mat is None or len(mat) != len(plan.texts):
                got = 0 if mat is None else len(mat)
                raise ValueError(f"the encoder returned {got} vectors for {len(plan.texts)} texts")
            for h, start, end in plan.spans:
                new_s[h] = mat[start : end - 1]
                new_t[h] = mat[end - 1]
        return new_s, new_t

    def load(self, ids: Sequence[str], terms: Mapping[str, SparseVec] | None = None) -> list[ArticleFeatures]:
        """Features of stored articles again (a retired event revived): from the vectors
        stored for them, nothing is encoded again. ``terms``: the tf-idf weights of some of
        them, kept by the caller (not computed again)."""
        if self.store is None:
            return []
        return self.build(list(self.store.iter_articles(list(ids))), terms)

    def build(
        self, items: Sequence[Processed], terms: Mapping[str, SparseVec] | None = None
    ) -> list[ArticleFeatures]:
        plan = self.plan(items)
        return self.finish(plan, self.encoder.encode(plan.texts) if plan.texts else None, terms)

    def features(
        self, p: Processed, sents: np.ndarray, title_vec: np.ndarray, terms: object,
        weights: SparseVec | None = None,
    ) -> ArticleFeatures:
        doc = doc_vector(sents)
        lead = (title_vec if p.title else np.zeros_like(title_vec)) + sents[:2].sum(0)
        lead = (lead / (float(np.linalg.norm(lead)) or 1.0)).astype(np.float32)
        text = f"{p.title}\n{p.clean_text}"
        names = name_keys(text, p.lang) | {k for _, _, k in p.entities}
        covers = getattr(self.encoder, "covers", None)
        covered = bool(covers(p.lang)) if covers else True
        return ArticleFeatures(
            id=p.id,
            lang=p.lang,
            date=p.event_date,
            doc=doc.astype(np.float16),
            lead=lead.astype(np.float16),
            terms=weights if weights is not None else tfidf_weights(terms, p.lang, self.counts),  # type: ignore[arg-type]
            # interned: the same names recur across thousands of articles held in memory
            names=frozenset(map(sys.intern, names)),
            numbers=frozenset(map(sys.intern, numbers_in(f"{p.title}\n{p.article.text}"))),
            covered=covered,
            length=len(p.clean_text),
            sents=sents[:MAX_SENTENCES].astype(np.float16),
            second_text=second_text(p, covered),
            key=p.article.hash,
            years=lead_years(p.title, p.article.text),
            published=p.article.published if p.article.published_precision == "day" else None,
        )
