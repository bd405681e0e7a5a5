"""Each pytest-xdist worker's share of the cores (tests/parallel.py, set by tests/conftest.py)."""

from __future__ import annotations

import os

import pytest
import torch
from parallel import THREADS_VARIABLE, share_cores, threads_per_worker, usable_cores


def test_threads_per_worker_is_an_equal_share_and_at_least_one():
    assert threads_per_worker(2, 2) == 1
    assert threads_per_worker(16, 2) == 8
    assert threads_per_worker(3, 2) == 1
    assert threads_per_worker(1, 4) == 1
    assert threads_per_worker(4, 0) == 4


class _Torch:
    def __init__(self):
        self.threads = []

    def set_num_threads(self, n):
        self.threads.append(n)


def test_a_worker_sets_its_share_for_torch_and_the_processes_it_starts():
    environ, fake = {}, _Torch()
    threads = share_cores({"workercount": 2}, environ, fake)
    assert threads == threads_per_worker(usable_cores(), 2)
    assert environ == {THREADS_VARIABLE: str(threads)} and fake.threads == [threads]
    environ = {}
    assert share_cores({"workercount": 2}, environ) == threads  # torch not imported yet
    assert environ == {THREADS_VARIABLE: str(threads)}


def test_outside_a_worker_or_with_the_users_own_count_nothing_changes():
    environ, fake = {"PATH": "/bin"}, _Torch()
    assert share_cores(None, environ, fake) is None
    assert environ == {"PATH": "/bin"} and fake.threads == []
    environ = {THREADS_VARIABLE: "3"}
    assert share_cores({"workercount": 2}, environ, fake) is None
    assert environ == {THREADS_VARIABLE: "3"} and fake.threads == []


@pytest.mark.skipif("PYTEST_XDIST_WORKER" not in os.environ, reason="not in an xdist worker")
def test_this_worker_runs_torch_on_its_share():
    # tests/conftest.py set the variable before torch was imported, or set torch's count
    assert torch.get_num_threads() == int(os.environ[THREADS_VARIABLE])
