"""Domain exceptions. The library raises these; the CLI and the HTTP API translate them."""

from __future__ import annotations


class StorylineError(Exception):
    """Base class of every error storyline raises on purpose.

    Exit codes of the CLI: 1 other errors, 2 bad input, 3 the run finished but some inputs
    were skipped, 4 not found, 5 store error, 6 missing optional dependency.
    """

    code = "error"
    exit_code = 1


class InputError(StorylineError):
    """An input could not be read (missing file, unreadable format)."""

    code = "bad_input"
    exit_code = 2


class NotFound(StorylineError):
    """No article, event or story with that id."""

    code = "not_found"
    exit_code = 4


class StoreError(StorylineError):
    """The store cannot be opened or is inconsistent."""

    code = "store_error"
    exit_code = 5


class MissingExtra(StorylineError):
    """An optional dependency is not installed."""

    code = "missing_extra"
    exit_code = 6

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install it with: pip install 'storyline[{extra}]'"
        )
        self.package = package
        self.extra = extra


def require(module: str, extra: str):  # type: ignore[no-untyped-def]
    """Import an optional module or raise :class:`MissingExtra` with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra(module, extra) from exc
