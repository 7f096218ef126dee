"""The README documents every command and starts with the two commands a new user runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyline.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text("utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented(readme: str, command: str) -> None:
    where = f"`storyline {command}` is not in README.md"
    assert re.search(rf"`storyline {re.escape(command)}\b", readme), where
    assert re.search(rf"^(?:.*\| )?storyline {re.escape(command)}\b", readme, re.MULTILINE), (
        f"README.md has no example line for `storyline {command}`"
    )


def test_readme_starts_with_install_and_test_commands(readme: str) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
    install, tests = blocks[0].strip(), blocks[1].strip()
    assert install.startswith("python3 -m venv .venv && ")
    assert "pip install -e '.[all]'" in install
    assert "storyline cluster examples/" in install
    assert tests == ".venv/bin/python -m pytest -q"


def test_ci_installs_what_the_readme_says(readme: str) -> None:
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert "install -e '.[all]'" in ci  # the README's pip command, in the fresh venv
    assert "pytest -q" in ci


def test_documented_example_files_exist(readme: str) -> None:
    for path in set(re.findall(r"\bexamples/[\w./-]+", readme)):
        assert (README.parent / path.rstrip(".")).exists(), path
