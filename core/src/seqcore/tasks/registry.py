"""``register_task``: a task class under a name, with an optional dataclass config."""

from __future__ import annotations

from collections.abc import Callable

from seqcore.registry import TASKS
from seqcore.tasks.base import Task


def register_task(name: str, dataclass: type | None = None) -> Callable[[type], type]:
    """Class decorator: register a :class:`~seqcore.tasks.Task` subclass as ``name``."""
    return TASKS.class_decorator(name, dataclass, Task)
