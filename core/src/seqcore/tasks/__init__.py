"""Tasks (fairseq's ``fairseq.tasks`` names)."""

from seqcore.tasks.base import Task
from seqcore.tasks.registry import TASK_REGISTRY, register_task

__all__ = ["TASK_REGISTRY", "Task", "register_task"]
