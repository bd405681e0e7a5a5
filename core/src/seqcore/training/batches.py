"""How the training loop takes its batches: grouped for gradient accumulation, bounded by the
task's and the model's position limits."""

from __future__ import annotations

import itertools
from typing import Any


def grouped(iterator: Any, size: int) -> Any:
    """Lists of ``size`` consecutive batches (the last one may be shorter)."""
    while True:
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield chunk


def min_positions(*limits: Any) -> Any:
    """The tighter of the task's and the model's position limits (``None``: no limit)."""
    result = None
    for limit in limits:
        if limit is None:
            continue
        if result is None:
            result = limit
        elif isinstance(limit, tuple) and isinstance(result, tuple):
            result = tuple(
                b if a is None else a if b is None else min(a, b) for a, b in zip(result, limit)
            )
        elif not isinstance(limit, tuple) and not isinstance(result, tuple):
            result = min(result, limit)
    return result
