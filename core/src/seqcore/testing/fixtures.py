"""The kit's pytest fixtures: tiny data folders built on the fly and an in-process CLI runner.

Each imports what it needs when it runs, so that loading the kit into pytest imports no torch
(a plug-in's unrelated tests start as fast as before).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def tiny_translation_data(tmp_path: Path) -> Path:
    """A binarized translation folder (``dict.{src,tgt}.txt``, ``train``/``valid``/``test``
    splits of a word-reversal task), ready for ``seqcore train DATA --task translation``."""
    from seqcore.testing.data import write_translation_data

    return write_translation_data(tmp_path / "translation-bin")


@pytest.fixture
def tiny_lm_data(tmp_path: Path) -> Path:
    """A binarized language-modelling folder (``dict.txt``, ``train``/``valid``/``test``)."""
    from seqcore.testing.data import write_lm_data

    return write_lm_data(tmp_path / "lm-bin")


@pytest.fixture
def seqcore_cli() -> Callable:
    """:func:`seqcore.testing.run_cli`: ``seqcore_cli("train", DATA, ...)`` runs the command in
    this process and returns its exit status and captured output."""
    from seqcore.testing.cli import run_cli

    return run_cli
