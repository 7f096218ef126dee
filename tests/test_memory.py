"""Handing freed memory back to the system after a commit (run/memory.py)."""

from __future__ import annotations

import ctypes
import sys

import pytest

from storyline.run import memory


def _glibc() -> bool:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return False
    return sys.platform.startswith("linux")


@pytest.mark.skipif(not _glibc(), reason="needs Linux with glibc")
def test_glibc_gives_back_free_pages() -> None:
    memory._malloc_trim.cache_clear()
    blocks = [bytearray(64 * 1024) for _ in range(256)]  # 16 MB in mid-sized blocks
    del blocks
    assert memory.release_free_memory() is True


def test_elsewhere_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory.release_free_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
