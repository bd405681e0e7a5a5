"""Learning-rate schedulers (fairseq's ``fairseq.optim.lr_scheduler`` names)."""

from seqcore.optim.lr_scheduler.base import LRScheduler
from seqcore.optim.lr_scheduler.registry import register_lr_scheduler

__all__ = ["LRScheduler", "register_lr_scheduler"]
