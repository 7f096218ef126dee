"""Loaders for labelled data: articles, gold events and storyline's predictions (all JSONL).

The development sets live outside the repository (``../shared/data``, see its README);
:func:`shared_data_dir` finds them, :func:`load_dataset` reads one by name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = [
    "SHARED_ENV",
    "load_articles",
    "load_dataset",
    "load_gold",
    "load_predictions",
    "shared_data_dir",
]

SHARED_ENV = "STORYLINE_SHARED"
"""Environment variable naming the shared folder (the one holding ``data/``)."""

_LABEL_KEYS = ("event", "event_id")


def _rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line raises :class:`InputError`."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, row


def _require_id(path: str | Path, lineno: int, row: dict[str, Any]) -> str:
    if "id" not in row or row["id"] is None:
        raise InputError(f"{path}:{lineno}: missing 'id'")
    return str(row["id"])


def load_articles(path: str | Path) -> list[dict[str, Any]]:
    """Articles from a JSONL file, one dict per line, in file order (``id`` as a string)."""
    out = []
    for lineno, row in _rows(path):
        row["id"] = _require_id(path, lineno, row)
        out.append(row)
    return out


def _load_labels(path: str | Path, what: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for lineno, row in _rows(path):
        item = _require_id(path, lineno, row)
        key = next((k for k in _LABEL_KEYS if row.get(k) is not None), None)
        if key is None:
            raise InputError(f"{path}:{lineno}: missing 'event' (or 'event_id') in {what}")
        label = str(row[key])
        if labels.get(item, label) != label:
            raise InputError(f"{path}:{lineno}: id {item!r} has two different events")
        labels[item] = label
    return labels


def load_gold(path: str | Path) -> dict[str, str]:
    """Gold labels ``{id: event}``; rows carry ``event`` or ``event_id``."""
    return _load_labels(path, "gold")


def load_predictions(path: str | Path) -> dict[str, str]:
    """Predicted labels ``{id: event}`` from storyline's output JSONL.

    Rows are ``{"id", "event", "story", "family", "lang", "score"}``; ``event_id`` is accepted
    in place of ``event``. Only the event is kept.
    """
    return _load_labels(path, "predictions")


def _data_dir_in(shared: Path) -> Path | None:
    """``shared/data`` if it exists, else ``shared`` itself when it already is a data folder."""
    if (shared / "data").is_dir():
        return shared / "data"
    if shared.is_dir() and any(shared.glob("*.gold.jsonl")):
        return shared
    return None


def shared_data_dir() -> Path | None:
    """The shared development-data folder, or None when it cannot be found.

    Looks at ``$STORYLINE_SHARED`` first, then for a ``shared/data`` folder beside the
    repository, walking up from the current working directory and from this file.
    """
    env = os.environ.get(SHARED_ENV)
    if env:
        found = _data_dir_in(Path(env).expanduser())
        if found is not None:
            return found.resolve()
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    for start in starts:
        for base in (start, *start.parents):
            candidate = base / "shared" / "data"
            if candidate.is_dir():
                return candidate.resolve()
    return None


def load_dataset(
    name: str, data_dir: str | Path | None = None
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Articles and gold of one named set, e.g. ``load_dataset("ecbplus_dev")``.

    Reads ``NAME.jsonl`` and ``NAME.gold.jsonl`` from ``data_dir`` (default: the shared data
    folder). Raises :class:`InputError` when the folder or the files cannot be found.
    """
    folder = Path(data_dir) if data_dir is not None else shared_data_dir()
    if folder is None:
        raise InputError(
            f"no shared data folder found; set {SHARED_ENV} to the folder holding data/"
        )
    return load_articles(folder / f"{name}.jsonl"), load_gold(folder / f"{name}.gold.jsonl")
