"""The story-linker contract: what the pipeline asks of the object that links events into stories.

:class:`~storyline.stories.linker.StoryLinker` is the default; any object with these members
can be passed as ``Pipeline(linker=...)``. :func:`storyline.checks.check_linker` checks one.

The pipeline feeds the linker one :class:`~storyline.stories.event.StoryEvent` per new or
grown event (``learn_one`` for a new event, ``update`` for a known one), tells it when an
event was merged away upstream (``remove``), reads ``story_of_`` and ``stories_`` to write the
stories, and keeps ``to_state()`` in the store to resume with ``load_state`` on a ``clone()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    from ..model import Merge
    from .event import StoryEvent


@runtime_checkable
class Linker(Protocol):
    """Links events into stories, online, with stable story ids.

    Invariants after every call: each linked event is in exactly one story; ``story_of_`` and
    ``stories_`` agree; no story is empty; an id that left ``stories_`` (merged away, emptied)
    is never given out again.
    """

    #: event id -> id of its story
    story_of_: Mapping[str, str]
    #: story id -> ids of its events (in the linker's order, usually by date)
    stories_: Mapping[str, Sequence[str]]

    def learn_one(self, ev: StoryEvent) -> tuple[str, float]:
        """Link a new event: ``(story id, link score)``, the score 0.0 for a new story."""
        ...

    def update(self, ev: StoryEvent) -> list[Merge]:
        """A known event changed (it grew): link it again. Returns the story merges it made
        (``Merge("story", loser, winner, ...)``; the loser id leaves ``stories_``)."""
        ...

    def remove(self, event_id: str) -> str | None:
        """Forget an event (merged away upstream). Returns the story it left (dropped from
        ``stories_`` when it is now empty), or None for an unknown event."""
        ...

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume, as JSON-serialisable data."""
        ...

    def load_state(self, state: Mapping[str, Any]) -> Self:
        """Resume from ``to_state()`` output (on a fresh linker); returns ``self``."""
        ...

    def clone(self) -> Self:
        """A new, empty linker with the same parameters."""
        ...
