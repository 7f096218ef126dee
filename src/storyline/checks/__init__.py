"""Contract checks for every part of storyline a user may swap (in the spirit of ``river.checks``).

Each ``check_xxx`` takes an implementation (or a zero-argument factory, e.g. the class) and
runs it through what the pipeline relies on, raising :class:`ContractError` (an
:class:`AssertionError`) with a message that names the broken promise. They import nothing
from pytest: call them from your own tests, or once by hand before passing your
implementation to :class:`~storyline.run.pipeline.Pipeline`.

============================  ==========================================  =====================
check                         contract                                    ``Pipeline`` argument
============================  ==========================================  =====================
:func:`check_encoder`         :class:`storyline.represent.base.Encoder`   ``encoder=``
:func:`check_scorer`          :class:`storyline.cluster.base.Scorer`      ``scorer=``
:func:`check_store`           :class:`storyline.store.base.Store`         the store (first)
:func:`check_reader`          :class:`storyline.ingest.base.Reader`       ``readers=[...]``
:func:`check_linker`          :class:`storyline.stories.base.Linker`      ``linker=``
============================  ==========================================  =====================

>>> from storyline.checks import check_encoder
>>> from storyline.represent.encoder import HashingEncoder
>>> check_encoder(HashingEncoder(dim=64))
"""

from __future__ import annotations

from .common import ContractError
from .encoder import check_encoder
from .linker import check_linker
from .reader import check_reader
from .scorer import check_scorer
from .store import check_store

__all__ = ["ContractError", "check_encoder", "check_linker", "check_reader", "check_scorer", "check_store"]
