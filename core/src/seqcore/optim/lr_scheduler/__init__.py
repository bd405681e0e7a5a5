"""Learning-rate schedulers (fairseq's ``fairseq.optim.lr_scheduler`` names)."""

from seqcore.optim.lr_scheduler.base import LRScheduler
from seqcore.optim.lr_scheduler.registry import LR_SCHEDULER_REGISTRY, register_lr_scheduler

__all__ = ["LR_SCHEDULER_REGISTRY", "LRScheduler", "register_lr_scheduler"]
