"""Stories: events linked into stories over time, online, with stable story ids.

:mod:`.event` holds what the linker reads and returns (:class:`StoryEvent`, :class:`LinkWeights`,
:class:`LinkScore`) and how a story's events are ordered and titled (:func:`timeline`,
:func:`story_headline`); :mod:`.linker` holds :class:`StoryLinker`, the default linker, which
the pipeline feeds one :class:`StoryEvent` per new or grown event.
"""

from .event import LinkScore, LinkWeights, StoryEvent, story_headline, timeline
from .linker import StoryLinker

__all__ = ["LinkScore", "LinkWeights", "StoryEvent", "StoryLinker", "story_headline", "timeline"]
