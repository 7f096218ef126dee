"""The gazetteer is built once and kept in the cache directory, keyed by what it is built from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.prepare import gazetteer as G


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STORYLINE_CACHE_DIR", str(tmp_path / "cache"))
    G._tables.cache_clear()
    yield tmp_path / "cache"
    G._tables.cache_clear()


def test_built_once_then_read_back(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = G._tables()
    files = list(fresh.glob("gazetteer-*.json"))
    assert len(files) == 1 and not list(fresh.glob(".gazetteer-*"))
    G._tables.cache_clear()
    monkeypatch.setattr(G, "_build_gazetteer", lambda: pytest.fail("built again"))
    assert G._tables() == built
    assert G.gazetteer()["iraq"] == "country:IQ"
    assert G.city_country()[G.gazetteer()["baghdad"]] == "country:IQ"


def test_a_damaged_or_stale_cache_is_built_again(fresh: Path) -> None:
    built = G._tables()
    (path,) = fresh.glob("gazetteer-*.json")
    for damage in ("{not json", json.dumps({"key": "other", "gazetteer": {}, "city_country": {}}), "[]"):
        path.write_text(damage, encoding="utf-8")
        G._tables.cache_clear()
        assert G._tables() == built
        assert json.loads(path.read_text(encoding="utf-8"))["gazetteer"] == built[0]


def test_an_unwritable_cache_directory_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("STORYLINE_CACHE_DIR", str(blocker / "cache"))
    G._tables.cache_clear()
    try:
        assert G.gazetteer()["iraq"] == "country:IQ"
    finally:
        G._tables.cache_clear()


def test_files_of_other_versions_are_removed(fresh: Path) -> None:
    fresh.mkdir(parents=True)
    (fresh / "gazetteer-0123.json").write_text("{}", encoding="utf-8")
    G._tables()
    assert [p.name for p in fresh.glob("gazetteer-*.json")] == [f"gazetteer-{G._tables_key()}.json"]
