"""``inverse_sqrt``: linear warmup, then decay with the inverse square root of the update.

fairseq's ``inverse_sqrt`` schedule (the Transformer's): for ``n < warmup_updates``,
``lr_n = warmup_init_lr + n * (lr - warmup_init_lr) / warmup_updates``; afterwards
``lr_n = lr * sqrt(warmup_updates) / sqrt(n)``, which meets the warmup at ``n = warmup_updates``.
``--warmup-init-lr`` defaults to 0 (any negative value means "the default").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqcore.errors import ConfigError
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.lr_scheduler.base import LRScheduler, require_one_lr
from seqcore.optim.lr_scheduler.registry import register_lr_scheduler


@dataclass
class InverseSquareRootLRScheduleConfig(LearningRateConfig):
    warmup_updates: int = field(
        default=4000,
        metadata={"help": "warmup the learning rate linearly for the first N updates"},
    )
    warmup_init_lr: float = field(
        default=-1.0,
        metadata={"help": "initial learning rate during warmup phase; default is 0"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        require_one_lr("inverse_sqrt", self.lr)
        if self.warmup_updates <= 0:
            raise ConfigError(
                f"--warmup-updates {self.warmup_updates} must be positive with "
                "--lr-scheduler inverse_sqrt"
            )


@register_lr_scheduler("inverse_sqrt", dataclass=InverseSquareRootLRScheduleConfig)
class InverseSquareRootSchedule(LRScheduler):
    """Linear warmup to ``--lr``, then ``lr * sqrt(warmup_updates / num_updates)``."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        super().__init__(cfg, optimizer)
        peak_lr = cfg.lr[0]
        self.warmup_updates = cfg.warmup_updates
        self.warmup_init_lr = cfg.warmup_init_lr if cfg.warmup_init_lr >= 0 else 0.0
        self.lr_step = (peak_lr - self.warmup_init_lr) / self.warmup_updates
        self.decay_factor = peak_lr * self.warmup_updates**0.5
        self.lr = self.warmup_init_lr
        self.optimizer.set_lr(self.lr)

    def step_update(self, num_updates: int) -> float:
        if num_updates < self.warmup_updates:
            self.lr = self.warmup_init_lr + num_updates * self.lr_step
        else:
            self.lr = self.decay_factor * num_updates**-0.5
        self.optimizer.set_lr(self.lr)
        return self.lr
