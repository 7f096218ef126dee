"""Why an article is in its event: the decision's evidence, recomputed from stored data.

When the clusterer decides (``learn_one``) it records the candidates it scored, the members
each best candidate was compared with and the threshold (:mod:`storyline.cluster.constraints`);
the pipeline stores that record beside the assignment. :class:`Explainer` reads it back and
scores the same article against the same members with the same scorer, on features built from
the stored vectors (nothing is encoded again): the probability it shows is the decision's own
(``tests/test_explain.py`` checks it for every article of the seeds and the sample). It then
says, for the best candidates, what made the pair alike or not, in words a person reads:
shared names and numbers (with the cross-lingual keys they were matched on), the best-aligned
sentence pairs, the date gap, the cosines, and the probability against the threshold.

>>> from storyline import Pipeline, Article
>>> from storyline.represent.encoder import HashingEncoder
>>> p = Pipeline(":memory:", encoder=HashingEncoder(), second=False)
>>> _ = p.run([Article("a", "Earthquake hits Chile, killing 12 people.", lang="en")])
>>> Explainer.for_pipeline(p).article("a")["decision"]["action"]
'new'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .cluster.base import Scorer
from .cluster.constraints import active_pins
from .cluster.pairs import (
    DISJOINT_CAP,
    DISJOINT_NAMES,
    FEATURES,
    disjoint_names,
    names_apart,
    pair_features,
)
from .cluster.scorer import PairScorer
from .errors import NotFound
from .model import Processed
from .represent.builder import FeatureBuilder
from .represent.features import ArticleFeatures
from .store.base import Store
from .text import clip

if TYPE_CHECKING:
    from .run.pipeline import Pipeline

__all__ = ["Explainer", "explain_lines", "pair_lines"]

EVIDENCE = 3  # candidates explained in detail
SHOWN_NAMES = 12
SHOWN_SENTENCES = 3


class Explainer:
    """Explains decisions over one store with one feature builder and scorer (the pipeline's:
    :meth:`for_pipeline`; or the store's encoder and the shipped scorer: :meth:`for_store`)."""

    def __init__(
        self, store: Store, builder: FeatureBuilder, scorer: Scorer, threshold: float,
        undated_threshold: float | None = None,
    ) -> None:
        self.store = store
        self.builder = builder
        self.scorer = scorer
        self.threshold = threshold
        self.undated_threshold = threshold if undated_threshold is None else undated_threshold

    def threshold_for(self, f: ArticleFeatures) -> float:
        """The join threshold the clusterer applies to ``f`` (undated articles have their own)."""
        return self.threshold if f.published is not None else self.undated_threshold

    @classmethod
    def for_pipeline(cls, pipe: Pipeline) -> Explainer:
        """The pipeline's own builder, scorer and threshold: what its decisions used."""
        c = pipe.clusterer
        return cls(pipe.store, pipe.builder, pipe.scorer, c.threshold, c.undated_threshold)

    @classmethod
    def for_store(cls, store: Store) -> Explainer:
        """A read-only explainer: the encoder whose vectors the store holds (never run unless
        a vector is missing), the shipped scorer, term statistics of every stored article."""
        from .represent.encoder import HashingEncoder, LazySecondVectors, USEEncoder

        name = store.get_state("encoder") or ""
        if name.startswith("hashing-"):
            encoder: Any = HashingEncoder(int(name.split("-", 1)[1]))
            scorer = PairScorer()
        else:
            encoder = USEEncoder()
            scorer = PairScorer(second=LazySecondVectors(store=store))
        builder = FeatureBuilder(encoder, store)
        builder.observe(list(store.iter_articles()), keep=False)
        threshold = float(scorer.meta.get("threshold", 0.5))
        undated = float(scorer.meta.get("undated_threshold", threshold))
        return cls(store, builder, scorer, threshold, undated)  # type: ignore[arg-type]

    # -- data --------------------------------------------------------------------------------
    def _items(self, ids: Sequence[str]) -> dict[str, Processed]:
        return {p.id: p for p in self.store.iter_articles(ids)}

    def _features(self, items: dict[str, Processed]) -> dict[str, ArticleFeatures]:
        return {f.id: f for f in self.builder.build(list(items.values()))}

    def _event_now(self, ev: str) -> str:
        return self.store.resolve("event", ev)

    # -- a pair ------------------------------------------------------------------------------
    def pair(self, a: str, b: str) -> dict[str, Any]:
        """The evidence that ``a`` and ``b`` (stored article ids) report one event."""
        items = self._items([a, b])
        for aid in (a, b):
            if aid not in items:
                raise NotFound(f"no stored article {aid!r}")
        feats = self._features(items)
        return self._pair(feats[a], feats[b], items[a], items[b])

    def _pair(
        self, fa: ArticleFeatures, fb: ArticleFeatures, pa: Processed, pb: Processed,
        prob: float | None = None,
    ) -> dict[str, Any]:
        if prob is None:
            self.scorer.fill_second(fa, [fb])
            prob = float(self.scorer.score_grid([fa], [fb])[0, 0])
        values = dict(zip(FEATURES, pair_features(fa, fb, self.scorer.second), strict=True))
        gap = (fa.date - fb.date).days if fa.date is not None and fb.date is not None else None
        row = np.array([list(values.values())])
        return {
            "a": fa.id, "b": fb.id, "probability": prob, "threshold": self.threshold_for(fa),
            "same_event": prob >= self.threshold_for(fa),
            "names": _shared_names(fa, fb, pa, pb),
            "numbers": sorted(fa.numbers & fb.numbers, key=lambda n: (len(n), n))[:SHOWN_NAMES],
            "sentences": _aligned_sentences(fa, fb, pa, pb),
            "date_gap_days": gap,
            "dates": [_iso(fa.date), _iso(fb.date)],
            "languages": [fa.lang, fb.lang],
            "cosines": {k: round(values[k], 4) for k in ("doc_cos", "lead_cos", "tfidf_cos", "second_cos")},
            "features": {k: round(v, 4) for k, v in values.items()},
            "names_disjoint": bool(disjoint_names(row)[0]),
            # which rule: two names or more each (True), or a specific entity each (False)
            "names_disjoint_two": bool(names_apart(row)[0]),
        }  # fmt: skip

    # -- an article --------------------------------------------------------------------------
    def article(self, article_id: str, evidence: int = EVIDENCE) -> dict[str, Any]:
        """Why ``article_id`` is in its event: the decision, its candidates, the evidence."""
        if not self.store.has_article(article_id):
            raise NotFound(f"no stored article {article_id!r}")
        assignment = self.store.get_assignment(article_id)
        if assignment is None:
            raise NotFound(f"article {article_id!r} has no event yet (it is assigned on the next run)")
        now = self._event_now(assignment.event)
        record = self.store.get_decision(article_id)
        out: dict[str, Any] = {
            "article": article_id, "event": now,
            "story": assignment.story or None,  # none yet: linked at the run's next counted commit
            "score": assignment.score, "threshold": self.threshold,
            "corrections": self._corrections_of(article_id),
        }  # fmt: skip
        if record is None:  # stored by an older storyline: compare with the event as it is
            event = self.store.get_event(now)
            members = [a for a in (event.article_ids if event else []) if a != article_id][:24]
            record = {"event": now, "action": "unrecorded", "score": assignment.score,
                      "threshold": self.threshold,
                      "candidates": [{"event": now, "score": None, "members": members}]}  # fmt: skip
        out["threshold"] = record.get("threshold", self.threshold)  # the one the decision used
        out["decision"] = {
            "action": record["action"], "event": record["event"],
            "event_now": self._event_now(str(record["event"])), "score": record["score"],
            "threshold": record.get("threshold", self.threshold),
        }  # fmt: skip
        cands = list(record.get("candidates", []))  # type: ignore[call-overload]
        detail = [c for c in cands if c.get("members")][:evidence]
        ids = {article_id, *(m for c in detail for m in c["members"])}
        items = self._items(list(ids))
        feats = self._features(items)
        f = feats[article_id]
        out["candidates"] = []
        for c in cands:
            item = {
                "event": c["event"], "event_now": self._event_now(c["event"]),
                "score": c["score"], "excluded": c.get("excluded"),
                # ruled out by an upper bound of its score (without the second encoder)
                "at_most": bool(c.get("at_most")),
            }  # fmt: skip
            ev = self.store.get_event(item["event_now"])
            item["headline"] = (ev.headline or ev.title) if ev else ""
            if c in detail:
                item.update(self._candidate(f, [feats[m] for m in c["members"] if m in feats], items))
            out["candidates"].append(item)
        return out

    def _candidate(
        self, f: ArticleFeatures, members: list[ArticleFeatures], items: dict[str, Processed]
    ) -> dict[str, Any]:
        """The same mean pair probability the decision took, and the closest member's evidence."""
        if not members:
            return {"recomputed": None, "compared": 0}
        self.scorer.fill_second(f, members)
        probs = self.scorer.score_grid([f], members)[0]
        best = int(np.argmax(probs))
        m = members[best]
        return {
            "recomputed": float(probs.mean()), "compared": len(members),
            "closest": self._pair(f, m, items[f.id], items[m.id], float(probs[best])),
        }

    def _corrections_of(self, article_id: str) -> list[dict[str, Any]]:
        cs = [c for c in self.store.corrections() if c.active and article_id in c.data.get("pins", {})]  # type: ignore[operator]
        pins = active_pins(cs)
        return [
            {"id": c.id, "action": c.action, "at": c.at, "author": c.author, "group": pins.get(article_id)}
            for c in cs
        ]


# -- helpers -----------------------------------------------------------------------------------
def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _shared_names(fa: ArticleFeatures, fb: ArticleFeatures, pa: Processed, pb: Processed) -> list[dict[str, Any]]:
    """Shared name keys with the words each article wrote them with (the key is what crosses
    languages: "Irak" and "Iraq" meet on ``iraq``)."""

    def surfaces(p: Processed, key: str) -> list[str]:
        found = sorted({s for s, _, k in p.entities if k == key})
        return found or [key]

    keys = sorted(fa.names & fb.names, key=lambda k: (-len(k), k))[:SHOWN_NAMES]
    return [{"key": k, "a": surfaces(pa, k), "b": surfaces(pb, k)} for k in keys]


def _sentence(p: Processed, i: int) -> str:
    sents = p.sentences or [p.title or p.clean_text[:500]]
    return sents[i] if i < len(sents) else ""


def _aligned_sentences(fa: ArticleFeatures, fb: ArticleFeatures, pa: Processed, pb: Processed) -> list[dict[str, Any]]:
    """The best-aligned sentence pairs (cosine of their sentence vectors), each sentence once."""
    if fa.sents is None or fb.sents is None or not len(fa.sents) or not len(fb.sents):
        return []
    m = np.asarray(fa.sents, np.float64) @ np.asarray(fb.sents, np.float64).T
    out: list[dict[str, Any]] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for flat in np.argsort(-m, axis=None, kind="stable"):
        i, j = divmod(int(flat), m.shape[1])
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append({"cos": round(float(m[i, j]), 4), "a": _sentence(pa, i), "b": _sentence(pb, j)})
        if len(out) >= SHOWN_SENTENCES:
            break
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def pair_lines(p: dict[str, Any], indent: str = "") -> list[str]:
    """A pair's evidence as lines a person reads."""
    verdict = "≥" if p["same_event"] else "<"
    lines = [f"{indent}probability {_pct(p['probability'])} {verdict} threshold {_pct(p['threshold'])}"]
    if p["names"]:
        shown = ", ".join(
            n["key"] if n["a"] == n["b"] == [n["key"]] else f"{'/'.join(n['a'])} ~ {'/'.join(n['b'])} [{n['key']}]"
            for n in p["names"]
        )
        lines.append(f"{indent}shared names: {shown}")
    else:
        lines.append(f"{indent}shared names: none")
    if p.get("names_disjoint"):
        two = p.get("names_disjoint_two", True)
        what = f"{DISJOINT_NAMES}+ things" if two else "a person, organisation or place (a country aside)"
        lines.append(f"{indent}both name {what}, none in common: "
                     f"different happenings (probability capped at {_pct(DISJOINT_CAP)})")
    lines.append(f"{indent}shared numbers: {', '.join(p['numbers']) or 'none'}")
    gap = p["date_gap_days"]
    lines.append(
        f"{indent}dates: {p['dates'][0] or '?'} vs {p['dates'][1] or '?'}"
        + (f" ({abs(gap)} day{'s' if abs(gap) != 1 else ''} apart)" if gap is not None else "")
        + f"; languages {p['languages'][0]} / {p['languages'][1]}"
    )
    cos = p["cosines"]
    lines.append(
        f"{indent}cosines: text {cos['doc_cos']:.3f}, lead {cos['lead_cos']:.3f}, "
        f"tf-idf {cos['tfidf_cos']:.3f}" + (f", second encoder {cos['second_cos']:.3f}" if cos["second_cos"] else "")
    )
    for s in p["sentences"]:
        lines.append(f"{indent}aligned ({s['cos']:.2f}): «{clip(s['a'], 110)}» ~ «{clip(s['b'], 110)}»")
    return lines


def explain_lines(e: dict[str, Any]) -> list[str]:
    """An article's explanation as lines a person reads."""
    d = e["decision"]
    story = e["story"] or "not linked yet: at the run's next counted commit"
    lines = [f"article {e['article']} is in event {e['event']} (story {story})"]
    action = d["action"]
    if action == "joined":
        lines.append(
            f"it joined {d['event']} with mean pair probability {_pct(d['score'])} ≥ threshold {_pct(d['threshold'])}"
        )
    elif action == "new":
        lines.append(
            f"it opened {d['event']}: no candidate reached the threshold {_pct(d['threshold'])} "
            f"(best {_pct(d['score'])})"
        )
    elif action == "pinned":
        lines.append(f"it joined {d['event']} because a correction pins it there")
    else:
        lines.append("no decision record (stored by an older storyline): evidence against its event as it is")
    if d["event_now"] != d["event"]:
        lines.append(f"{d['event']} has since become {d['event_now']}")
    for c in e["corrections"]:
        lines.append(f"correction {c['id']} ({c['action']} by {c['author'] or 'unknown'}, {c['at']}) pins it")
    if e["corrections"] and d["event_now"] != e["event"]:
        lines.append(f"so it is in {e['event']}, not where the clusterer put it ({d['event_now']})")
    if e["candidates"]:
        lines.append(f"candidates ({len(e['candidates'])}):")
    for c in e["candidates"]:
        tag = f"  [excluded: {c['excluded']}]" if c.get("excluded") else ""
        score = ("at most " if c.get("at_most") else "") + _pct(c["score"])
        head = f"  {c['event']}  {score}  {clip(c.get('headline') or '', 60)}{tag}"
        lines.append(head)
        if c.get("closest"):
            lines.append(
                f"    recomputed from stored data: {_pct(c['recomputed'])} over {c['compared']} member(s); "
                f"closest member {c['closest']['b']}:"
            )
            lines.extend(pair_lines(c["closest"], "      "))
    return lines
