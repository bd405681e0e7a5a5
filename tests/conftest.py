"""Suite-wide settings: under pytest-xdist each worker takes its share of the cores
(tests/parallel.py). Imports nothing but the standard library and pytest: the lint session runs
tests/core/test_layers.py with nothing else installed."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from parallel import share_cores


def pytest_configure(config: pytest.Config) -> None:
    # torch is not imported for this (see above); set_num_threads is called where it already is
    share_cores(getattr(config, "workerinput", None), os.environ, sys.modules.get("torch"))


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt for the test's duration, as in a terminal, also where the
    suite itself was started with SIGINT ignored (as a shell starts its background jobs)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
