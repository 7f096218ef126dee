"""Giving the memory a run has freed back to the system.

A long run frees many small objects at once (retired events' features, a commit's described
events). CPython returns them to the C allocator, which keeps most of the pages: the process
stays as large as its largest moment. glibc's ``malloc_trim`` hands back every free page; a
commit calls it (a few milliseconds), so a run's resident size follows what it holds.
Elsewhere (macOS, musl, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; False where that is not available."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
