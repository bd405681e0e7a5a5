"""``cosine``: cosine annealing with warm restarts (SGDR, arXiv:1608.03983), optional warmup.

fairseq's ``cosine`` schedule. During the first ``--warmup-updates`` updates the rate rises
linearly from ``--warmup-init-lr`` (default ``--min-lr``) to ``--lr``. After that, with
``t = num_updates - warmup_updates``, the rate follows half a cosine from the peak down to
``--min-lr`` over a period of ``--lr-period-updates`` updates (default
``max_update - warmup_updates``); each new period is ``--t-mult`` times longer than the last, and
period ``i`` (from 0) runs between ``min_lr * lr_shrink**i`` and ``lr * lr_shrink**i``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from seqcore.errors import ConfigError
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.lr_scheduler.base import LRScheduler, require_one_lr
from seqcore.optim.lr_scheduler.registry import register_lr_scheduler


@dataclass
class CosineLRScheduleConfig(LearningRateConfig):
    warmup_updates: int = field(
        default=0, metadata={"help": "warmup the learning rate linearly for the first N updates"}
    )
    warmup_init_lr: float = field(
        default=-1.0,
        metadata={"help": "initial learning rate during warmup phase; default is --min-lr"},
    )
    min_lr: float = field(default=0.0, metadata={"help": "min learning rate"})
    t_mult: float = field(
        default=1.0, metadata={"help": "factor to grow the length of each period"}
    )
    lr_period_updates: float = field(
        default=-1.0,
        metadata={"help": "initial number of updates per period; default max_update - warmup"},
    )
    lr_shrink: float = field(
        default=0.1, metadata={"help": "shrink factor for annealing, lr_new = (lr * lr_shrink)"}
    )
    max_update: int = field(default=0, metadata={"help": "force stop training at specified update"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require_one_lr("cosine", self.lr)
        if not self.lr[0] > self.min_lr:
            raise ConfigError(f"--lr {self.lr[0]} must be more than --min-lr {self.min_lr}")
        if self.warmup_updates < 0:
            raise ConfigError(f"--warmup-updates {self.warmup_updates} must not be negative")
        if self.t_mult <= 0:
            raise ConfigError(f"--t-mult {self.t_mult} must be positive")
        if self.lr_period_updates <= 0 and self.max_update - self.warmup_updates <= 0:
            raise ConfigError(
                "--lr-scheduler cosine needs --lr-period-updates, or a --max-update "
                f"({self.max_update}) above --warmup-updates ({self.warmup_updates})"
            )


@register_lr_scheduler("cosine", dataclass=CosineLRScheduleConfig)
class CosineLRSchedule(LRScheduler):
    """Cosine cycles between ``--min-lr`` and ``--lr``, each shrunk by ``--lr-shrink``."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        super().__init__(cfg, optimizer)
        self.max_lr = cfg.lr[0]
        self.min_lr = cfg.min_lr
        self.warmup_updates = cfg.warmup_updates
        self.warmup_init_lr = cfg.warmup_init_lr if cfg.warmup_init_lr >= 0 else cfg.min_lr
        self.t_mult = cfg.t_mult
        self.lr_shrink = cfg.lr_shrink
        self.period = (
            cfg.lr_period_updates
            if cfg.lr_period_updates > 0
            else cfg.max_update - cfg.warmup_updates
        )
        if self.warmup_updates > 0:
            self.lr_step = (self.max_lr - self.warmup_init_lr) / self.warmup_updates
        else:
            self.lr_step = 1.0
        self.lr = self.warmup_init_lr
        self.optimizer.set_lr(self.lr)

    def cycle(self, t: float) -> tuple[int, float, float]:
        """(period index, its length, updates into it) ``t`` updates after the warmup."""
        if self.t_mult != 1:
            ratio = self.t_mult
            i = math.floor(math.log(1 - t / self.period * (1 - ratio), ratio))

            def start(k: int) -> float:  # updates before period k
                return (1 - ratio**k) / (1 - ratio) * self.period

            # the logarithm can land a hair off an integer at a period boundary
            if t < start(i):
                i -= 1
            elif t >= start(i + 1):
                i += 1
            return i, ratio**i * self.period, t - start(i)
        i = math.floor(t / self.period)
        return i, self.period, t - self.period * i

    def step_update(self, num_updates: int) -> float:
        if num_updates < self.warmup_updates:
            self.lr = self.warmup_init_lr + num_updates * self.lr_step
        else:
            i, length, t_curr = self.cycle(num_updates - self.warmup_updates)
            shrink = self.lr_shrink**i
            low, high = self.min_lr * shrink, self.max_lr * shrink
            self.lr = low + 0.5 * (high - low) * (1 + math.cos(math.pi * t_curr / length))
        self.optimizer.set_lr(self.lr)
        return self.lr
