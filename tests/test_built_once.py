"""Session fixtures built once per test run, also for all pytest-xdist workers together
(tests/built_once.py)."""

from __future__ import annotations

import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import pytest
from built_once import build_once


def _request(worker: bool) -> types.SimpleNamespace:
    config = types.SimpleNamespace(workerinput={"workerid": "gw0"}) if worker else object()
    return types.SimpleNamespace(config=config)


def _worker_factory(tmp_path) -> types.SimpleNamespace:
    """A tmp_path_factory as in xdist worker gw0: its base folder inside the run's own."""
    base = tmp_path / "gw0"
    base.mkdir(exist_ok=True)
    return types.SimpleNamespace(getbasetemp=lambda: base)


def test_without_xdist_each_fixture_builds_its_own_folder(tmp_path_factory):
    built = []
    first = build_once(_request(False), tmp_path_factory, "thing", built.append)
    second = build_once(_request(False), tmp_path_factory, "thing", built.append)
    assert built == [first, second] and first != second
    assert first.parent == tmp_path_factory.getbasetemp()


def test_under_xdist_workers_asking_at_once_share_one_build(tmp_path):
    builds = []
    lock = threading.Lock()

    def build(folder):
        with lock:
            builds.append(folder)
        time.sleep(0.3)  # the other caller asks while this one builds
        (folder / "model.pt").write_text("weights")

    def ask(_):
        folder = build_once(_request(True), _worker_factory(tmp_path), "model", build)
        return folder, (folder / "model.pt").read_text()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(ask, range(2)))
    assert len(builds) == 1
    assert results == [(tmp_path / "built-once" / "model", "weights")] * 2


def test_under_xdist_a_failed_build_is_removed_and_built_again(tmp_path):
    def broken(folder):
        (folder / "half").write_text("")
        raise RuntimeError("training failed")

    with pytest.raises(RuntimeError, match="training failed"):
        build_once(_request(True), _worker_factory(tmp_path), "model", broken)
    folder = build_once(
        _request(True), _worker_factory(tmp_path), "model", lambda f: (f / "ok").write_text("")
    )
    assert sorted(p.name for p in folder.iterdir()) == ["ok"]
