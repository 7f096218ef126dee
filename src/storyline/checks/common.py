"""Helpers shared by the contract checks: building the object under test, failing clearly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ContractError(AssertionError):
    """A broken contract: which implementation, and which promise it does not keep."""


def expect(ok: object, label: str, message: str) -> None:
    """Raise :class:`ContractError` ``"<label>: <message>"`` unless ``ok`` is true."""
    if not ok:
        raise ContractError(f"{label}: {message}")


def label_of(obj: object) -> str:
    """A short name of the implementation under test, for messages: its class."""
    return obj.__name__ if isinstance(obj, type) else type(obj).__name__


def is_factory(obj: object, member: str) -> bool:
    """Whether ``obj`` is a class or a factory rather than an instance with ``member``."""
    return isinstance(obj, type) or (callable(obj) and not hasattr(obj, member))


@contextmanager
def built(obj_or_factory: Any, member: str) -> Iterator[Any]:
    """The instance under test: ``obj_or_factory`` itself, or what calling it returns (then
    closed afterwards when it has ``close()``)."""
    if not is_factory(obj_or_factory, member):
        yield obj_or_factory
        return
    obj = obj_or_factory()
    try:
        yield obj
    finally:
        close = getattr(obj, "close", None)
        if callable(close):
            close()


def missing_members(obj: object, names: tuple[str, ...]) -> list[str]:
    """The ``names`` that ``obj`` lacks."""
    return [n for n in names if not hasattr(obj, n)]
