"""The reader contract: turn an input (file, directory, stdin) into articles or skips."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from ..model import Article


@dataclass(frozen=True)
class Skip:
    """An input record that was not turned into an article, and why."""

    origin: str  # "path:line" or "path"
    reason: str


class Reader(Protocol):
    """Reads one kind of input. ``accepts`` looks at the path; ``read`` yields in file order."""

    def accepts(self, path: str) -> bool: ...

    def read(self, path: str) -> Iterator[Article | Skip]: ...
