"""The ``storyline`` command line: a thin layer over the library.

``main`` is the click group (the ``storyline`` console script); the commands live in modules
grouped by what they do:

- :mod:`.run`: ``cluster``, ``ingest``, ``watch`` put articles into a store and assign them;
- :mod:`.browse`: ``events``, ``show``, ``export``, ``stories``, ``story`` read a store;
- :mod:`.evaluate`: ``eval``, ``similarity`` measure clustering quality;
- :mod:`.serve`: ``serve`` runs the HTTP API and web pages;
- :mod:`.correct`: ``why`` explains a decision; ``move``, ``merge``, ``split``, ``undo``,
  ``corrections`` correct decisions so that they stay corrected;
- :mod:`.follow`: ``follow`` saved searches, what is new for them, ``--notify`` hooks;
- :mod:`.common`: what they share (``--db`` and other options, opening a store, exit codes,
  error handling, progress bar, tables).

Every command opens a store (``--db``, default ``storyline.db``), calls the library, and prints.
Errors are one line on stderr with a non-zero exit code. Optional extras (fastapi, feedparser,
...) are imported only inside the commands that need them.
"""

from __future__ import annotations

import logging

import click

from ..version import __version__
from . import browse, correct, evaluate, follow, run, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="storyline")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(verbose: int) -> None:
    """storyline: multilingual news articles in, events and stories out."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="storyline: %(levelname)s: %(message)s")
    if verbose == 0:  # the CLI names each skipped input itself
        skips = logging.getLogger("storyline.skips")
        before = skips.level
        skips.setLevel(logging.ERROR)
        click.get_current_context().call_on_close(lambda: skips.setLevel(before))


for _command in (*run.COMMANDS, *browse.COMMANDS, *evaluate.COMMANDS, *serve.COMMANDS, *correct.COMMANDS,
                 *follow.COMMANDS):
    main.add_command(_command)

__all__ = ["main"]
