"""The online event clusterer: one article at a time, join or create, repair by merging.

For each article: candidate events are the nearest event centroids (ANN) plus events that
share its rarest names and numbers, inside a time window. Each candidate is scored by the
mean pair probability between the article and (a sample of) its members. The best candidate
above ``threshold`` is joined, otherwise a new event is opened. After a join, the grown event
is compared with its own nearest events and merged when their mean cross-pair probability
reaches ``merge_threshold``: the older event id survives, the merge is logged and the loser's
id stays resolvable. Batch clustering is this same loop over articles sorted by date.

Memory follows the time window, not the archive (:mod:`storyline.cluster.window`): with a
``loader``, events far behind the newest article are retired and revived on demand.

Parameters are constructor arguments, kept as attributes and never changed; learned state
ends with ``_``. :meth:`OnlineClusterer.clone` gives a fresh clusterer with the same
parameters.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from ..model import Merge, short_id
from ..represent.features import ArticleFeatures
from .base import Scorer
from .constraints import Constraints
from .index import CentroidIndex
from .keyindex import KeyIndex
from .paircache import PairCache
from .repair import Repair
from .scorer import PairScorer
from .second import SecondCandidates
from .window import WindowMemory

log = logging.getLogger(__name__)



class OnlineClusterer(Constraints, Repair, SecondCandidates, WindowMemory):
    """Streaming event clusterer (``learn_one``) with stable ids and a merge log."""

    def __init__(
        self,
        scorer: Scorer | None = None,
        threshold: float | None = None,
        merge_threshold: float | None = None,
        undated_threshold: float | None = None,
        undated_merge_threshold: float | None = None,
        k: int = 10,
        window_days: int = 90,
        max_members: int = 24,
        link_members: int = 10,
        link_min_cos: float = 0.4,
        uncovered_members: int = 3,
        second_k: int = 10,
        second_events: int = 3000,
        second_rep_chars: int = 100,
        second_map: str | np.ndarray | None = "packaged",
        dim: int = 512,
        pair_cache_size: int = 300_000,
        retire_days: int | None = None,
        hold_days: int | None = None,
        loader: Callable[[Sequence[str]], Sequence[ArticleFeatures]] | None = None,
        retire_every: int = 1024,
    ) -> None:
        self.scorer = scorer if scorer is not None else PairScorer()
        meta = self.scorer.meta
        self.threshold = float(threshold if threshold is not None else meta.get("threshold", 0.5))
        self.merge_threshold = float(
            merge_threshold if merge_threshold is not None else meta.get("merge_threshold", 0.5)
        )
        # an article without a publication date (an archive, a corpus) is decided at its own
        # thresholds: the model's probabilities are not calibrated alike for dated and undated
        # pairs (docs/scorer.md, "thresholds"). A threshold given here applies to both kinds
        # unless its undated one is given too; else both come from the model file.
        self.undated_threshold = float(
            undated_threshold if undated_threshold is not None
            else self.threshold if threshold is not None
            else meta.get("undated_threshold", self.threshold)
        )  # fmt: skip
        self.undated_merge_threshold = float(
            undated_merge_threshold if undated_merge_threshold is not None
            else self.merge_threshold if merge_threshold is not None
            else meta.get("undated_merge_threshold", self.merge_threshold)
        )  # fmt: skip
        self.k = k
        self.window_days = window_days
        self.max_members = max_members
        self.link_members = link_members
        self.link_min_cos = link_min_cos
        self.uncovered_members = uncovered_members
        self.second_k = second_k
        self.second_events = second_events
        self.second_rep_chars = second_rep_chars
        self.second_map = second_map
        self._second_w: np.ndarray | None | bool = False  # not loaded yet
        self.dim = dim
        # events this far behind the newest article are retired (needs a loader); default:
        # twice the window, beyond which neither a new article nor a repair can reach them
        # while articles come in date order
        self.retire_days = 2 * window_days if retire_days is None else retire_days
        # ... but their members' features leave memory already this far behind (their names
        # still lead to them until retire_days): see window.py
        self.hold_days = min(self.retire_days, window_days if hold_days is None else hold_days)
        self.loader = loader
        self.retire_every = retire_every
        # learned state
        self.feats_: dict[str, ArticleFeatures] = {}
        self.event_of_: dict[str, str] = {}
        self.members_: dict[str, list[str]] = {}
        self.vsum_: dict[str, np.ndarray] = {}
        self.created_: dict[str, int] = {}
        self.keys_df_: Counter[str] = Counter()
        self.key_events_ = KeyIndex()  # name or number -> events it leads to
        self.merges_: list[Merge] = []
        self.index_ = CentroidIndex(dim)
        self._clock = 0
        self._losers: set[str] = set()
        self._dates: dict[str, dt.date | None] = {}
        self.pair_cache_size = pair_cache_size
        self.pairs_ = PairCache(pair_cache_size)  # pair probabilities already computed
        self.retired_: set[str] = set()  # events whose members' features were dropped
        # a large event is only ever compared through its first and latest members: the
        # features of the others are dropped; their date and language coverage stay here, and
        # their names and numbers (which still lead to the event) in _thin_keys
        self._thin: dict[str, tuple[dt.date | None, bool]] = {}
        self._thin_keys: dict[str, set[str]] = {}
        self._retired_terms: dict[str, bytes | tuple[np.ndarray, np.ndarray]] = {}  # (window.py: packed)
        self._settled: set[str] = set()  # retired once (final repair done), unchanged since
        self._named: dict[str, tuple[str, ...]] = {}  # retired, names still lead to it: its keys
        self.revivals_ = 0
        self._newest: dt.date | None = None  # the latest article date seen
        # second-encoder vector of each event's first member, computed only when an article
        # outside the sentence encoder's languages looks for candidates
        self._second_rep: dict[str, np.ndarray] = {}
        self._since_retire = 0
        self._init_constraints()  # corrections' pins and decision records (constraints.py)

    # -- public -----------------------------------------------------------------------------
    def get_params(self) -> dict[str, object]:
        """The constructor's arguments, as given (``threshold`` and ``merge_threshold``
        resolved from the scorer's defaults)."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def clone(self, **changes: object) -> OnlineClusterer:
        """A new, empty clusterer with the same parameters (and scorer), ``changes`` applied."""
        return type(self)(**{**self.get_params(), **changes})  # type: ignore[arg-type]

    @property
    def n_events_(self) -> int:
        return len(self.members_)

    def learn_one(self, f: ArticleFeatures) -> tuple[str, float]:
        """Assign one article to an event (joining or creating). Returns (event id, score)."""
        if f.id in self.event_of_:
            ev = self.event_of_[f.id]
            return ev, 1.0
        pinned = self.pinned_event(f)  # a correction put its group there (constraints.py)
        if pinned is not None:
            self._add(f, pinned)
            self._repair_around(pinned)
            ev = self.event_of_[f.id]
            self._note_decision(f, ev, "pinned", 1.0, [])
            scored, best_score = [], 1.0
        else:
            scored, best_score = self._score_candidates(f, cache=True), 0.0
        best = None
        excluded = [ev for ev, _ in scored if not self.allowed(f, ev)]  # pinned apart
        for ev, score in scored:
            if ev in excluded:
                continue
            if score > best_score or (score == best_score and best is not None and ev < best):
                best, best_score = ev, score
        if pinned is not None:
            pass
        elif best is not None and best_score >= self.threshold_for(f):
            self._add(f, best)
            self._note_decision(f, best, "joined", best_score, scored, excluded)
            self._repair_around(best)
            ev = self.event_of_[f.id]
        else:
            ev = self._new_event_id(f.id)
            self._add(f, ev)
            self._note_decision(f, ev, "new", best_score, scored, excluded)
        self._since_retire += 1
        if self._since_retire >= self.retire_every:
            self.retire_old()
        return ev, best_score

    def threshold_for(self, f: ArticleFeatures) -> float:
        """The join threshold of ``f``: ``threshold``, or ``undated_threshold`` when ``f`` has
        no publication date."""
        return self.threshold if f.published is not None else self.undated_threshold

    def merge_threshold_for(self, ev: str) -> float:
        """The merge threshold of event ``ev``: ``undated_merge_threshold`` when its first
        member has no publication date, else ``merge_threshold``."""
        first = self.feats_.get(self.members_[ev][0])
        undated = first is not None and first.published is None
        return self.undated_merge_threshold if undated else self.merge_threshold

    def restore(self, f: ArticleFeatures, event_id: str) -> None:
        """Put a stored article back into its stored event (reopening a store)."""
        if f.id not in self.event_of_:  # (stored order is not date order: retire_old(repair=False) after)
            self._add(f, event_id)

    def _score_candidates(self, f: ArticleFeatures, cache: bool) -> list[tuple[str, float]]:
        cands = self.candidates(f)
        # a language outside the sentence encoder needs the slower second encoder for every
        # member it is compared with: compare with fewer members per event
        limit = None if f.covered else self.uncovered_members
        samples = [self._sample(ev, limit, prefer_covered=f.covered) for ev in cands]
        self._note_samples(cands, samples)  # for the decision record (constraints.py)
        # candidates that cannot reach the threshold whatever the second encoder says are
        # not compared with it (their score is then that bound: see _ruled_out)
        ruled = self._ruled_out([f], samples, self.threshold_for(f))
        self._note_bounds([cands[i] for i in ruled])
        members = [m for i, sample in enumerate(samples) if i not in ruled for m in sample]
        if not members and not ruled:
            return []
        if not members:
            probs = np.zeros(0)
        elif cache:
            probs = self._pair_probs([f], members)[0]
        else:
            probs = self.scorer.score_many(f, members)
        out, start = [], 0
        for i, (ev, sample) in enumerate(zip(cands, samples, strict=True)):
            if i in ruled:
                out.append((ev, ruled[i]))
                continue
            out.append((ev, float(probs[start : start + len(sample)].mean())))
            start += len(sample)
        return out

    def candidates(self, f: ArticleFeatures) -> list[str]:
        seen: dict[str, None] = {}
        # outside the sentence encoder's languages the vector neighbours say little: rely
        # more on shared rare names and numbers
        k = self.k if f.covered else max(1, self.k // 3)
        for ev, _ in self.index_.query(f.doc, k):
            seen[ev] = None
        for ev in self._key_candidates(f):
            seen.setdefault(ev, None)
        if not f.covered:
            for ev in self._second_candidates(f):
                seen.setdefault(ev, None)
        return [ev for ev in seen if self._in_window(f, ev)]

    def events(self) -> dict[str, list[str]]:
        return {ev: list(m) for ev, m in self.members_.items()}

    def centroid(self, ev: str) -> np.ndarray:
        v = self.vsum_[ev]
        return v / (float(np.linalg.norm(v)) or 1.0)

    def event_date(self, ev: str) -> dt.date | None:
        """The median of the members' dates (cached until the event changes)."""
        if ev not in self._dates:  # kept while retired: the features are gone
            dates = sorted(d for a in self.members_[ev] if (d := self._meta(a)[0]) is not None)
            self._dates[ev] = dates[len(dates) // 2] if dates else None
        return self._dates[ev]

    # -- internals ---------------------------------------------------------------------------
    def _new_event_id(self, seed: str) -> str:
        ev = short_id("ev", seed)
        n = 1
        losers = {m.loser for m in self.merges_} if len(self._losers) != len(self.merges_) else None
        if losers is not None:
            self._losers = losers
        while ev in self.members_ or ev in self._losers:
            ev = short_id("ev", f"{seed}#{n}")
            n += 1
        return ev

    def _add(self, f: ArticleFeatures, ev: str) -> None:
        if ev in self.retired_:
            self._revive(ev)
        self._settled.discard(ev)
        if f.date is not None and (self._newest is None or f.date > self._newest):
            self._newest = f.date
        self.feats_[f.id] = f
        self.event_of_[f.id] = ev
        if ev not in self.members_:
            self.members_[ev] = []
            self.vsum_[ev] = np.zeros(self.dim, np.float32)
            self.created_[ev] = self._clock
            self._clock += 1
        self.members_[ev].append(f.id)
        self._dates.pop(ev, None)
        self.vsum_[ev] = self.vsum_[ev] + f.doc
        n = len(self.members_[ev])
        if n % 16 == 0:
            self._trim(ev)
        if n <= 8 or n % max(1, n // 8) == 0:  # a large event's centroid moves slowly
            self.index_.upsert(ev, self.centroid(ev))
        for key in f.names | f.numbers:
            self.keys_df_[key] += 1
            self.key_events_.add(key, ev)
        self._note_add(f.id, ev)

    def _sample(
        self, ev: str, limit: int | None = None, prefer_covered: bool = False
    ) -> list[ArticleFeatures]:
        """Members to compare with: the first and the latest, up to ``limit``.

        ``prefer_covered``: an article in a language of the sentence encoder is compared with
        the members in such languages when the event has any (no second encoder needed).
        """
        if ev in self.retired_:
            self._revive(ev)
        ids = self.members_[ev]
        if prefer_covered:
            covered = [a for a in ids if self._meta(a)[1]]
            if covered:
                ids = covered
            else:
                limit = min(limit or self.uncovered_members, self.uncovered_members)
        limit = limit or self.max_members
        if len(ids) > limit:
            half = limit // 2
            ids = ids[:half] + ids[-half:]
        return [self.feats_[a] for a in ids]

    def _idf(self, key: str) -> float:
        n = max(len(self.event_of_), 1)
        return math.log((n + 1) / (self.keys_df_.get(key, 0) + 1))

    def _key_candidates(self, f: ArticleFeatures, limit: int = 5) -> list[str]:
        """Events sharing the article's rarest names and numbers (cross-lingual recall)."""
        if not self.event_of_:
            return []
        weights: Counter[str] = Counter()
        for key in f.names | f.numbers:
            evs = self.key_events_.get(key)
            if not evs or len(evs) > 50:
                continue
            w = self._idf(key)
            for ev in evs:
                weights[ev] += w
        return [ev for ev, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    def _in_window(self, f: ArticleFeatures, ev: str) -> bool:
        if f.date is None or self.window_days <= 0:
            return True
        d = self.event_date(ev)
        return d is None or abs((f.date - d).days) <= self.window_days

    def _ruled_out(
        self, a: Sequence[ArticleFeatures], samples: Sequence[Sequence[ArticleFeatures]], threshold: float
    ) -> dict[int, float]:
        """The samples (by position) whose mean pair probability with the articles ``a``
        stays below ``threshold`` whatever the second encoder's cosines (:meth:`PairScorer.upper_grid`),
        with that upper bound of their mean; only samples with a pair that needs the second
        encoder. Deciding without their second-encoder vectors decides as with them: a join
        or a merge needs the threshold."""
        upper = getattr(self.scorer, "upper_grid", None)
        b = [y for s in samples for y in s]
        got = upper(a, b) if upper is not None and a and b else None
        if got is None:
            return {}
        up, need = got
        out, start = {}, 0
        for i, s in enumerate(samples):
            end = start + len(s)
            if s and need[:, start:end].any():
                # a-major, contiguous: the order in which the exact mean is summed
                mean = float(np.ascontiguousarray(up[:, start:end]).ravel().mean())
                if mean < threshold:
                    out[i] = mean
            start = end
        return out

    def _pair_probs(
        self, a: Sequence[ArticleFeatures], b: Sequence[ArticleFeatures], fill: bool = True
    ) -> np.ndarray:
        """Probabilities of all pairs (x, y), x in ``a``, y in ``b`` (cached, see
        :class:`~storyline.cluster.paircache.PairCache`). ``fill=False``: the caller already
        gave the scorer its chance to batch (:meth:`~storyline.cluster.base.Scorer.fill_second`)."""
        if fill:  # second-encoder batches as if nothing were cached (the vectors stay the same)
            for x in a:
                self.scorer.fill_second(x, b)
        return self.pairs_.probs(self.scorer, a, b)
