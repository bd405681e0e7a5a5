"""Tasks (fairseq's ``fairseq.tasks`` names)."""

from seqcore.tasks.base import Task
from seqcore.tasks.registry import register_task, setup_task

__all__ = ["Task", "register_task", "setup_task"]
