"""``fixed``: one learning rate per epoch, then geometric annealing; optional linear warmup.

fairseq's ``fixed`` schedule. Epoch ``k`` (from 1) runs at ``lr[k - 1]``, the last value of
``--lr`` repeating; from epoch ``--force-anneal`` on the rate is
``lr[-1] * lr_shrink ** (epoch + 1 - force_anneal)`` (fairseq 0.12.2's exponent, so that the
first annealed epoch is already shrunk once). During the first ``--warmup-updates`` updates the
rate is scaled by ``(num_updates + 1) / warmup_updates``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqcore.errors import ConfigError
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.lr_scheduler.base import LRScheduler
from seqcore.optim.lr_scheduler.registry import register_lr_scheduler


@dataclass
class FixedLRScheduleConfig(LearningRateConfig):
    force_anneal: int | None = field(
        default=None, metadata={"help": "force annealing at specified epoch"}
    )
    lr_shrink: float = field(
        default=0.1, metadata={"help": "shrink factor for annealing, lr_new = (lr * lr_shrink)"}
    )
    warmup_updates: int = field(
        default=0, metadata={"help": "warmup the learning rate linearly for the first N updates"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.warmup_updates < 0:
            raise ConfigError(f"--warmup-updates {self.warmup_updates} must not be negative")


@register_lr_scheduler("fixed", dataclass=FixedLRScheduleConfig)
class FixedLRSchedule(LRScheduler):
    """Per-epoch learning rates from ``--lr``, annealed from ``--force-anneal``."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        super().__init__(cfg, optimizer)
        self.lr = cfg.lr[0]
        self.warmup_factor = 1.0 / cfg.warmup_updates if cfg.warmup_updates > 0 else 1.0
        self.optimizer.set_lr(self.warmup_factor * self.lr)

    def next_lr(self, epoch: int) -> float:
        """The base rate of ``epoch`` (counted from 1), before warmup scaling."""
        lrs = self.cfg.lr
        if self.cfg.force_anneal is None or epoch < self.cfg.force_anneal:
            return lrs[min(epoch - 1, len(lrs) - 1)]
        return lrs[-1] * self.cfg.lr_shrink ** (epoch + 1 - self.cfg.force_anneal)

    def step_begin_epoch(self, epoch: int) -> float:
        self.lr = self.next_lr(epoch)
        self.optimizer.set_lr(self.warmup_factor * self.lr)
        return self.optimizer.get_lr()

    def step_update(self, num_updates: int) -> float:
        warmup = self.cfg.warmup_updates
        if warmup > 0 and num_updates < warmup:
            self.warmup_factor = (num_updates + 1) / warmup
        else:
            self.warmup_factor = 1.0
        self.optimizer.set_lr(self.warmup_factor * self.lr)
        return self.optimizer.get_lr()

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "lr": self.lr, "warmup_factor": self.warmup_factor}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.lr = state_dict.get("lr", self.lr)
        self.warmup_factor = state_dict.get("warmup_factor", self.warmup_factor)
        self.optimizer.set_lr(self.warmup_factor * self.lr)
