"""Session fixtures that cost seconds (a trained model), built once per test run even under
pytest-xdist, where every worker would otherwise build its own."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock  # a requirement of torch, so wherever the suite runs


def build_once(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], object],
) -> Path:
    """A folder called ``name`` filled by ``build(folder)`` once per test run.

    Without xdist it is a fresh temporary folder, built here. Under xdist it is built once for
    all workers, in the run's own temporary folder (the parent of every worker's): the first
    worker to ask builds it holding a file lock, the others wait for the lock, then use it. A
    build that failed (no ``.done`` marker) is removed and tried again by the next worker to
    ask. Tests only read what is in the folder, as they must of any session fixture."""
    if getattr(request.config, "workerinput", None) is None:
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent / "built-once"
    shared.mkdir(exist_ok=True)
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(shared / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder
