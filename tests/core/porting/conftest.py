"""Fixtures of the porting tests (see helpers.py for why each user dir loads in isolation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from core.porting.helpers import isolated_plugins

from seqcore.testing.data import write_translation_data


@pytest.fixture
def isolated() -> Iterator[None]:
    with isolated_plugins():
        yield


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_translation_data(tmp_path_factory.mktemp("porting") / "data-bin")
