"""Shared by the porting tests: where the fairseq-style user dirs are, and how each is loaded
in isolation.

The two versions of the Simple LSTM tutorial (simple_lstm/ and simple_lstm_incremental/) register
the same names, as two versions of one file would; in one test process they would clash. Each
use of them therefore runs inside :func:`isolated_plugins`, which puts the registries, the
plug-in loader and ``sys.modules`` back as they were.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from seqcore import loader, registry

HERE = Path(__file__).resolve().parent
SIMPLE_LSTM = HERE / "simple_lstm"  # sections 1 and 2 of the tutorial
SIMPLE_LSTM_INCREMENTAL = HERE / "simple_lstm_incremental"  # with section 4's decoder
LEGACY = HERE / "legacy_components"  # a legacy criterion, task and model of our own

# small sizes for a fast run; the tutorial's own architecture gives 256
SMALL = [
    "--encoder-embed-dim", "16", "--encoder-hidden-dim", "16",
    "--decoder-embed-dim", "16", "--decoder-hidden-dim", "16",
]  # fmt: skip


@contextlib.contextmanager
def isolated_plugins() -> Iterator[None]:
    """Registrations and user dirs loaded inside the block are forgotten after it."""
    loader.load_plugins()  # the installed plug-ins' registrations belong to the state kept
    saved = [(r, r._state()) for r in registry.ALL]
    notes = list(registry._unknown_name_notes)
    state = loader._state
    modules = set(sys.modules)
    loader._state = None
    try:
        yield
    finally:
        for reg, reg_state in saved:
            reg._restore(reg_state)
        registry._unknown_name_notes[:] = notes
        loader._state = state
        for name in set(sys.modules) - modules:
            if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(HERE)):
                del sys.modules[name]
