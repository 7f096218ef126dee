"""What the story linker reads and returns: :class:`StoryEvent` (one event, summarised),
:class:`LinkWeights` (how a link score is made) and :class:`LinkScore` (one link, with its
parts); :func:`timeline` and :func:`story_headline` order and title a story's events.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = ["LinkScore", "LinkWeights", "StoryEvent", "shipped_link_params", "story_headline", "timeline"]


_LANG_SETS: dict[frozenset[str], frozenset[str]] = {}  # one object per set of languages


@dataclass
class StoryEvent:
    """What the story linker needs of one event (a summary, not the articles)."""

    id: str
    date: dt.date | None
    centroid: np.ndarray  # unit float32 vector
    entities: frozenset[str] = frozenset()  # cross-lingual keys: "per:kazimi", "country:IQ"
    keyphrases: list[str] = field(default_factory=list)
    size: int = 1
    langs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # a linker holds every event of a store: the same keys and language sets recur
        self.entities = frozenset(map(sys.intern, self.entities))
        langs = frozenset(self.langs)
        self.langs = _LANG_SETS.setdefault(langs, langs)

    @functools.cached_property
    def folded_keyphrases(self) -> frozenset[str]:
        """The keyphrases folded (:func:`~storyline.text.fold`): what the linker compares,
        computed once per event."""
        from ..text import fold

        return frozenset(fold(k) for k in self.keyphrases)

    def to_json(self) -> dict[str, Any]:
        vec = np.asarray(self.centroid, dtype="<f4")
        return {
            "id": self.id,
            "date": self.date.isoformat() if self.date else None,
            "centroid": base64.b64encode(vec.tobytes()).decode("ascii"),
            "entities": sorted(self.entities),
            "keyphrases": list(self.keyphrases),
            "size": self.size,
            "langs": sorted(self.langs),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> StoryEvent:
        vec = np.frombuffer(base64.b64decode(d["centroid"]), dtype="<f4").astype(np.float32)
        return cls(
            id=d["id"],
            date=dt.date.fromisoformat(d["date"]) if d.get("date") else None,
            centroid=vec,
            entities=frozenset(d.get("entities", ())),
            keyphrases=list(d.get("keyphrases", ())),
            size=int(d.get("size", 1)),
            langs=frozenset(d.get("langs", ())),
        )


@dataclass(frozen=True)
class LinkWeights:
    """How the parts of a link score are combined (see ``docs/stories.md``)."""

    centroid: float = 0.5  # × cosine of the event centroids
    actors: float = 0.35  # × min(1, actor evidence / actor_saturation)
    keyphrases: float = 0.15  # × IDF-weighted keyphrase overlap coefficient
    per_year: float = 0.015  # subtracted per year between the events ...
    max_years: float = 1.0  # ... up to this many years (beyond, time costs nothing more)
    actor_saturation: float = 2.0
    # Weight of a shared entity key by kind (the prefix before ":"); other keys: "other".
    kinds: tuple[tuple[str, float], ...] = (
        ("per", 1.0),
        ("org", 1.0),
        ("city", 0.5),
        ("loc", 0.5),
        ("country", 0.15),
        ("other", 0.6),
    )

    # When set, the score is a fitted logistic model: sigmoid(intercept + centroid × cosine +
    # Σ kind weight × rarity of each shared key + keyphrases × overlap − per_year × years),
    # with the kinds' weights as coefficients and no saturation (``scripts/train_linker.py``).
    intercept: float | None = None
    # ... plus these terms, by name: "shared" log(1 + specific keys shared), "rarest" the
    # rarity of the rarest one, "gap" log(1 + days apart)
    terms: tuple[tuple[str, float], ...] = ()
    gap_cap_days: float = 36525.0  # "gap" counts days up to this many
    fitted_days: float = 36525.0  # beyond this many days apart ...
    hand_floor: float = 1.0  # ... a fitted score this high links when the hand rule links
    vouch_keys: int = 3  # ... and they share this many specific keys
    vouch_rarity: float = 0.0  # ... counting only keys at least this rare (``_rarity``)

    def kind_weight(self, key: str) -> float:
        table = self._kind_table
        kind = key.split(":", 1)[0] if ":" in key else "other"
        return table.get(kind, table.get("other", 0.6))

    @functools.cached_property
    def _kind_table(self) -> dict[str, float]:
        return dict(self.kinds)  # (built once, not on every link)


def shipped_link_params() -> dict[str, Any]:
    """The linker parameters fitted on the dated dev data (``data/linker.json``, written by
    ``scripts/train_linker.py``): ``weights``, ``threshold``, ``actor_min``, ``min_cosine``;
    empty when the package has no such file."""
    import json
    from importlib import resources

    ref = resources.files("storyline") / "data" / "linker.json"
    if not ref.is_file():
        return {}
    d = json.loads(ref.read_text())
    w = dict(d["weights"])
    w["kinds"] = tuple((str(k), float(v)) for k, v in w["kinds"])
    w["terms"] = tuple((str(k), float(v)) for k, v in w.get("terms", ()))
    return {"weights": LinkWeights(**w), "threshold": float(d["threshold"]),
            "actor_min": float(d.get("actor_min", 0.0)), "min_cosine": float(d.get("min_cosine", 0.0))}


class LinkScore(NamedTuple):
    """One event-to-event link, with its parts, for decisions and explanations."""

    score: float
    cosine: float
    actors: float  # rarity-weighted evidence from shared specific keys
    keyphrases: float
    gap_days: int
    shared: tuple[str, ...]


def timeline(story_events: Sequence[StoryEvent]) -> list[StoryEvent]:
    """Events in date order; undated events last; ties by id.

    >>> v = np.zeros(2, dtype=np.float32)
    >>> evs = [StoryEvent("c", None, v), StoryEvent("b", dt.date(2024, 1, 27), v),
    ...        StoryEvent("a", dt.date(2020, 6, 11), v)]
    >>> [e.id for e in timeline(evs)]
    ['a', 'b', 'c']
    """
    return sorted(story_events, key=lambda e: (e.date is None, e.date or dt.date.min, e.id))


def story_headline(
    event_headlines_by_size: Iterable[tuple[str, int] | tuple[str, int, dt.date | None]],
) -> str:
    """The headline of the largest event, the most recent on a tie; "" when there is none.

    Items are ``(headline, size)`` or ``(headline, size, date)``; empty headlines are skipped.

    >>> story_headline([("Talks in 2020", 4, dt.date(2020, 6, 11)),
    ...                 ("Talks in 2024", 4, dt.date(2024, 1, 27)), ("Tiny", 1, None)])
    'Talks in 2024'
    >>> story_headline([])
    ''
    """
    best: tuple[int, dt.date, str] | None = None
    for item in event_headlines_by_size:
        headline, size = item[0], item[1]
        date = item[2] if len(item) > 2 else None  # type: ignore[misc]
        if not headline:
            continue
        key = (size, date or dt.date.min, headline)
        if best is None or key > best:
            best = key
    return best[2] if best else ""
