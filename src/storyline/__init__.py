"""storyline: multilingual news articles in, events and stories out."""

from __future__ import annotations

import logging

from .model import Article, Assignment, Event, Merge, Processed, Story
from .run.pipeline import Pipeline, RunReport
from .store import open_store
from .version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Article",
    "Assignment",
    "Event",
    "Merge",
    "Pipeline",
    "Processed",
    "RunReport",
    "Story",
    "__version__",
    "open_store",
]
