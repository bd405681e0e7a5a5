"""Each pytest-xdist worker's share of the cores (``nox -s tests`` runs ``-n 2``).

Each worker is a process of its own, and torch starts one thread per core in each: 2 workers
on 2 cores would run 4 threads, spinning while they wait for a core the other process holds.
Measured on 2 cores while another process kept one busy: the evaluation tests' ``copy_model``
trained in 66 s with torch's 2 threads, 6 s with 1. Standard library only: tests/conftest.py
imports it, and the lint session runs tests/core/test_layers.py with nothing but pytest.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

THREADS_VARIABLE = "OMP_NUM_THREADS"


def threads_per_worker(cores: int, workers: int) -> int:
    """An equal share of ``cores`` for each of ``workers``, at least one."""
    return max(1, cores // max(1, workers))


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def share_cores(
    workerinput: dict[str, Any] | None, environ: MutableMapping[str, str], torch: Any = None
) -> int | None:
    """In an xdist worker (``workerinput``, None elsewhere), its share of the cores for torch's
    threads: ``OMP_NUM_THREADS`` in ``environ`` (read by torch when it is imported, and by every
    process a test starts) and torch's thread count where torch is already imported. A count the
    user set in ``OMP_NUM_THREADS`` is kept. Returns the count set, or None."""
    if workerinput is None or THREADS_VARIABLE in environ:
        return None
    threads = threads_per_worker(usable_cores(), int(workerinput["workercount"]))
    environ[THREADS_VARIABLE] = str(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    return threads
