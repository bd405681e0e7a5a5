"""``register_lr_scheduler``: a scheduler class under a name, with an optional dataclass."""

from __future__ import annotations

from collections.abc import Callable

from seqcore.optim.lr_scheduler.base import LRScheduler
from seqcore.registry import LR_SCHEDULERS


def register_lr_scheduler(name: str, dataclass: type | None = None) -> Callable[[type], type]:
    """Class decorator: register an :class:`~seqcore.optim.lr_scheduler.LRScheduler` subclass."""
    return LR_SCHEDULERS.class_decorator(name, dataclass, LRScheduler)
