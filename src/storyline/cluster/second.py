"""Candidates for an article in a language the sentence encoder lacks: its sentence vectors
are noise (an Icelandic report never has its English original among its 30 nearest by USE on
WMT21 dev), so its second-encoder (e5) vector looks for them. :class:`SecondCandidates` is a
mixin of :class:`~storyline.cluster.online.OnlineClusterer`, which owns the state it reads.
"""

from __future__ import annotations

import numpy as np

from ..represent.features import ArticleFeatures


def load_second_map(path: str | None = None) -> np.ndarray | None:
    """The packaged linear map from the second encoder's space to the sentence encoder's
    (``data/second_map.npz``, ``scripts/train_second_map.py``), or the one at ``path``;
    None when there is none."""
    from importlib import resources

    try:
        if path is None:
            with resources.as_file(resources.files("storyline") / "data" / "second_map.npz") as p:
                return np.load(p, allow_pickle=False)["W"].astype(np.float32)
        return np.load(path, allow_pickle=False)["W"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        return None


class SecondCandidates:
    """Second-encoder candidate search, for :class:`~storyline.cluster.online.OnlineClusterer`."""

    def _second_candidates(self, f: ArticleFeatures, exclude: str | None = None) -> list[str]:
        """Events close to ``f`` by the second encoder, for an article outside the sentence
        encoder's languages (its sentence vectors are noise: an Icelandic report never has
        its English original among its 30 nearest by USE).

        With the packaged map (``second_map``; ``scripts/train_second_map.py``), the second
        encoder's vector of the first ``second_rep_chars`` characters of the lead is mapped
        into the sentence encoder's space and searched in the centroid index: no event needs
        a second-encoder vector of its own. Without it (another second encoder, other
        dimensions), each event's first member gets a second vector once, when such an
        article first needs it, for events in its window (the most recent ``second_events``).
        """
        second = self.scorer.second
        if second is None or not self.members_:
            return []
        encode = getattr(second, "encode", None)
        w = self._map() if encode is not None else None
        if w is not None:
            query = getattr(second, "query", None)  # (computed once, ahead of need)
            if query is not None:
                v = query(f, self.second_rep_chars)
                v = None if v is None else np.asarray(v, np.float32).reshape(1, -1)
            else:
                v = encode([f.second_text[: self.second_rep_chars] or " "])  # type: ignore[misc]
            if v is None:
                return []
            if len(v) and v.shape[1] == w.shape[0]:
                q = np.asarray(v[0], np.float32) @ w
                q /= float(np.linalg.norm(q)) or 1.0
                hits = self.index_.query(q, self.second_k + 1)
                return [ev for ev, _ in hits if ev != exclude][: self.second_k]
        evs = [ev for ev in self.members_ if ev != exclude and self._in_window(f, ev)]
        evs = sorted(evs, key=lambda e: -self.created_[e])[: self.second_events]
        todo = [ev for ev in evs if ev not in self._second_rep]
        for ev in todo:  # as a vector neighbour would be: the same candidates with or without retiring
            if ev in self.retired_:
                self._revive(ev)
        return self._second_by_leads(f, evs, todo, second)

    def second_query_chars(self) -> int | None:
        """How many characters of an uncovered article's lead the candidate search encodes
        (None: it encodes none, without the map): a run queues them ahead of need."""
        return self.second_rep_chars if self.scorer.second is not None and self._map() is not None else None

    def _map(self) -> np.ndarray | None:
        """The second-to-sentence-encoder map (``second_map``: "packaged", a path, an array
        or None), loaded once; None when absent or of other dimensions than the index."""
        if self._second_w is False:
            m = self.second_map
            if isinstance(m, str):
                m = load_second_map(None if m == "packaged" else m)
            self._second_w = None if m is None else np.asarray(m, np.float32)
        w = self._second_w
        return w if isinstance(w, np.ndarray) and w.shape[1] == self.dim else None

    def _second_by_leads(self, f, evs, todo, second) -> list[str]:  # type: ignore[no-untyped-def]
        reps = [self.feats_[self.members_[ev][0]] for ev in todo]
        self.scorer.fill_second(f, reps)  # one batch (f lies outside the sentence encoder)
        mine = second(f)
        if mine is None:
            return []
        for ev, rep in zip(todo, reps, strict=True):
            v = second(rep)
            if v is not None:
                self._second_rep[ev] = np.asarray(v, np.float32)
        return self._second_top(evs, np.asarray(mine, np.float32))

    def _second_top(self, evs: list[str], mine: np.ndarray) -> list[str]:
        have = [ev for ev in evs if ev in self._second_rep]
        if not have:
            return []
        sims = np.stack([self._second_rep[ev] for ev in have]) @ mine
        top = np.argsort(-sims, kind="stable")[: self.second_k]
        return [have[i] for i in top]
