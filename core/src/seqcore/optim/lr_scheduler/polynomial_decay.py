"""``polynomial_decay``: linear warmup, then polynomial decay to ``--end-learning-rate``.

fairseq's ``polynomial_decay`` schedule (BERT/RoBERTa fine-tuning). For
``n <= warmup_updates`` the rate is ``lr * n / warmup_updates``; then, with
``T = total_num_update`` and ``w = warmup_updates``,
``lr_n = (lr - end_lr) * (1 - (n - w) / (T - w)) ** power + end_lr`` until ``n >= T``, after
which it stays at ``end_lr``. ``--total-num-update`` defaults to ``--max-update``.

The per-epoch base rate mirrors fairseq 0.12.2 exactly: epoch ``k`` uses ``lr[min(k, len - 1)]``
(only visible with several ``--lr`` values), and from ``--force-anneal`` on the base rate becomes
the rate currently in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqcore.errors import ConfigError
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.lr_scheduler.base import LRScheduler
from seqcore.optim.lr_scheduler.registry import register_lr_scheduler


@dataclass
class PolynomialDecayLRScheduleConfig(LearningRateConfig):
    warmup_updates: int = field(
        default=0, metadata={"help": "warmup the learning rate linearly for the first N updates"}
    )
    force_anneal: int | None = field(
        default=None, metadata={"help": "force annealing at specified epoch"}
    )
    end_learning_rate: float = field(default=0.0, metadata={"help": "learning rate to decay to"})
    power: float = field(default=1.0, metadata={"help": "decay exponent"})
    total_num_update: int = field(
        default=0,
        metadata={"help": "total number of updates over which to decay; default --max-update"},
    )
    max_update: int = field(default=0, metadata={"help": "force stop training at specified update"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.warmup_updates < 0:
            raise ConfigError(f"--warmup-updates {self.warmup_updates} must not be negative")
        total = self.total_num_update or self.max_update
        if total <= 0:
            raise ConfigError(
                "--lr-scheduler polynomial_decay needs --total-num-update or --max-update > 0"
            )


@register_lr_scheduler("polynomial_decay", dataclass=PolynomialDecayLRScheduleConfig)
class PolynomialDecayLRSchedule(LRScheduler):
    """Warmup to ``--lr`` then ``(lr - end) * remaining_fraction ** power + end``."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        super().__init__(cfg, optimizer)
        self.lr = cfg.lr[0]
        self.warmup_updates = cfg.warmup_updates
        self.warmup_factor = 1.0 / cfg.warmup_updates if cfg.warmup_updates > 0 else 1.0
        self.end_learning_rate = cfg.end_learning_rate
        self.total_num_update = cfg.total_num_update or cfg.max_update
        self.power = cfg.power
        self.optimizer.set_lr(self.warmup_factor * self.lr)

    def next_lr(self, epoch: int) -> float:
        lrs = self.cfg.lr
        if self.cfg.force_anneal is None or epoch < self.cfg.force_anneal:
            return lrs[min(epoch, len(lrs) - 1)]
        return self.optimizer.get_lr()

    def step_begin_epoch(self, epoch: int) -> float:
        self.lr = self.next_lr(epoch)
        self.optimizer.set_lr(self.warmup_factor * self.lr)
        return self.optimizer.get_lr()

    def step_update(self, num_updates: int) -> float:
        warmup = self.warmup_updates
        if warmup > 0 and num_updates <= warmup:
            self.warmup_factor = num_updates / warmup
            lr = self.warmup_factor * self.lr
        elif num_updates >= self.total_num_update:
            lr = self.end_learning_rate
        else:
            remaining = 1 - (num_updates - warmup) / (self.total_num_update - warmup)
            lr = (self.lr - self.end_learning_rate) * remaining**self.power
            lr += self.end_learning_rate
        self.optimizer.set_lr(lr)
        return self.optimizer.get_lr()

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "lr": self.lr,
            "warmup_factor": self.warmup_factor,
            "lr_in_force": self.optimizer.get_lr(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.lr = state_dict.get("lr", self.lr)
        self.warmup_factor = state_dict.get("warmup_factor", self.warmup_factor)
        if "lr_in_force" in state_dict:
            self.optimizer.set_lr(state_dict["lr_in_force"])
