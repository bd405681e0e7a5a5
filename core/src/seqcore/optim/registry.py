"""``register_optimizer``: an optimizer class under a name, with an optional dataclass config."""

from __future__ import annotations

from collections.abc import Callable

from seqcore.optim.base import Optimizer
from seqcore.registry import OPTIMIZERS


def register_optimizer(name: str, dataclass: type | None = None) -> Callable[[type], type]:
    """Class decorator: register an :class:`~seqcore.optim.Optimizer` subclass as ``name``."""
    return OPTIMIZERS.class_decorator(name, dataclass, Optimizer)
