"""The encoder contract: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    """A sentence encoder. ``encode`` returns an (n, dim) float32 array of unit vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def covers(self, lang: str) -> bool:
        """Whether the encoder was trained on this language (ISO 639-1)."""
        ...
