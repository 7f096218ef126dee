"""storyline: multilingual news articles in, events and stories out."""

from __future__ import annotations

import logging

from .model import Article, Assignment, Event, Merge, Processed, Story
from .pipeline import Pipeline, RunReport
from .store import open_store

__version__ = "0.1.0"

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
