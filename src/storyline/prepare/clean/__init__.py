"""Cleaning: boilerplate lines, per-source repeated lines, sentence splitting."""

from __future__ import annotations

from .boilerplate import clean_text, is_boilerplate, normalize_whitespace
from .repeated import RepeatedLineFilter
from .sentences import looks_like_title, split_sentences

__all__ = [
    "RepeatedLineFilter",
    "clean_text",
    "is_boilerplate",
    "looks_like_title",
    "normalize_whitespace",
    "split_sentences",
]
