"""The encoder contract: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """A sentence encoder. ``encode`` returns an (n, dim) float32 array of unit vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def covers(self, lang: str) -> bool:
        """Whether the encoder was trained on this language (ISO 639-1)."""
        ...


@runtime_checkable
class Portable(Protocol):
    """An encoder that can be built again in another process: large runs encode in a child
    process (:class:`~storyline.run.workers.ProcessEncoder`) with the encoder ``spec()``
    returns, a picklable factory."""

    def spec(self) -> Callable[[], Encoder]: ...
