"""Which events a name or number leads to, compactly.

Most names and numbers lead to one event: a key of one event holds its id, and only a key of
several holds a set (an empty set costs 216 bytes; a 100k-article run holds about half a
million keys).

>>> idx = KeyIndex()
>>> idx.add("per:kazimi", "ev-1"); idx.add("per:kazimi", "ev-2"); idx.add("org:nato", "ev-1")
>>> sorted(idx.get("per:kazimi")), list(idx.get("org:nato")), list(idx.get("per:none"))
(['ev-1', 'ev-2'], ['ev-1'], [])
>>> idx.discard("per:kazimi", "ev-1"); idx.discard("org:nato", "ev-1")
>>> dict(idx.items())
{'per:kazimi': frozenset({'ev-2'})}
"""

from __future__ import annotations

from collections.abc import Collection, Iterator


class KeyIndex:
    """Key → the events it leads to (``add``, ``discard``, ``get``)."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: dict[str, str | set[str]] = {}

    def add(self, key: str, ev: str) -> None:
        cur = self._d.get(key)
        if cur is None:
            self._d[key] = ev
        elif isinstance(cur, str):
            if cur != ev:
                self._d[key] = {cur, ev}
        else:
            cur.add(ev)

    def discard(self, key: str, ev: str) -> None:
        cur = self._d.get(key)
        if cur is None:
            return
        if isinstance(cur, str):
            if cur == ev:
                del self._d[key]
            return
        cur.discard(ev)
        if len(cur) == 1:
            self._d[key] = next(iter(cur))

    def move(self, key: str, old: str, new: str) -> None:
        """``key`` leads to ``new`` instead of ``old`` (a merge)."""
        self.discard(key, old)
        self.add(key, new)

    def get(self, key: str) -> Collection[str]:
        """The events ``key`` leads to (empty when none)."""
        cur = self._d.get(key)
        if cur is None:
            return ()
        return (cur,) if isinstance(cur, str) else cur

    def items(self) -> Iterator[tuple[str, frozenset[str]]]:
        for key in self._d:
            yield key, frozenset(self.get(key))

    def __len__(self) -> int:
        return len(self._d)
