"""``reduce_lr_on_plateau``: shrink the rate when the validation loss stops improving.

fairseq's ``reduce_lr_on_plateau`` schedule, which drives ``torch.optim.lr_scheduler.
ReduceLROnPlateau`` with a relative threshold, in mode "max" under
``--maximize-best-checkpoint-metric`` and "min" otherwise; the same rule is written out here so
that its whole state is ours to save. After each validation the value of
``--best-checkpoint-metric`` counts as an improvement when it is below ``best * (1 -
lr_threshold)`` (above ``best * (1 + lr_threshold)`` when maximized); after more than
``--lr-patience`` epochs in a row without one, the rate is multiplied by ``--lr-shrink`` (a change
of 1e-8 or less is skipped, as torch does). An optional linear warmup from ``--warmup-init-lr``
(default 0) to ``--lr`` over ``--warmup-updates`` updates comes first; validation losses do not
shrink the rate until the warmup is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqcore.errors import ConfigError
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.lr_scheduler.base import LRScheduler, require_one_lr
from seqcore.optim.lr_scheduler.registry import register_lr_scheduler

# Shrinking by no more than this is skipped (torch's ReduceLROnPlateau ``eps``).
MIN_LR_CHANGE = 1e-8


@dataclass
class ReduceLROnPlateauLRScheduleConfig(LearningRateConfig):
    lr_shrink: float = field(
        default=0.1, metadata={"help": "shrink factor for annealing, lr_new = (lr * lr_shrink)"}
    )
    lr_threshold: float = field(
        default=1e-4,
        metadata={"help": "threshold for measuring the new optimum, relative to the best"},
    )
    lr_patience: int = field(
        default=0,
        metadata={"help": "number of epochs with no improvement after which lr is reduced"},
    )
    warmup_updates: int = field(
        default=0, metadata={"help": "warmup the learning rate linearly for the first N updates"}
    )
    warmup_init_lr: float = field(
        default=-1.0,
        metadata={"help": "initial learning rate during warmup phase; default is 0"},
    )
    # the same field as ``seqcore train``'s checkpoint option: one flag feeds both, so the
    # schedule reads the metric in the direction the best checkpoint is chosen by (fairseq's
    # ``II("checkpoint.maximize_best_checkpoint_metric")``)
    maximize_best_checkpoint_metric: bool = field(
        default=False, metadata={"help": "a larger metric is better"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        require_one_lr("reduce_lr_on_plateau", self.lr)
        if not 0.0 <= self.lr_shrink < 1.0:
            raise ConfigError(f"--lr-shrink {self.lr_shrink} must be in [0, 1)")
        if self.lr_patience < 0:
            raise ConfigError(f"--lr-patience {self.lr_patience} must not be negative")
        if self.warmup_updates < 0:
            raise ConfigError(f"--warmup-updates {self.warmup_updates} must not be negative")


@register_lr_scheduler("reduce_lr_on_plateau", dataclass=ReduceLROnPlateauLRScheduleConfig)
class ReduceLROnPlateauLRSchedule(LRScheduler):
    """Multiply the rate by ``--lr-shrink`` when validation stalls for ``--lr-patience`` + 1
    epochs."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        super().__init__(cfg, optimizer)
        peak_lr = cfg.lr[0]
        self.warmup_updates = cfg.warmup_updates
        if cfg.warmup_init_lr >= 0:
            self.warmup_init_lr = cfg.warmup_init_lr
        else:
            self.warmup_init_lr = 0.0 if self.warmup_updates > 0 else peak_lr
        if self.warmup_updates > 0:
            self.lr_step = (peak_lr - self.warmup_init_lr) / self.warmup_updates
        self.warmup_end = self.warmup_updates <= 0
        self.num_bad_epochs = 0
        self.optimizer.set_lr(self.warmup_init_lr)

    def is_improvement(self, val_loss: float) -> bool:
        """Whether ``val_loss`` (the value of ``--best-checkpoint-metric``) beats the best so far
        by more than the relative ``--lr-threshold``, in the metric's direction."""
        if self.best is None:
            return True
        if self.cfg.maximize_best_checkpoint_metric:
            return val_loss > self.best * (1.0 + self.cfg.lr_threshold)
        return val_loss < self.best * (1.0 - self.cfg.lr_threshold)

    def step(self, epoch: int, val_loss: float | None = None) -> float:
        if val_loss is None or not self.warmup_end:
            return self.optimizer.get_lr()
        if self.is_improvement(val_loss):
            self.best = val_loss
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.num_bad_epochs > self.cfg.lr_patience:
            old_lr = self.optimizer.get_lr()
            new_lr = max(old_lr * self.cfg.lr_shrink, 0.0)
            if old_lr - new_lr > MIN_LR_CHANGE:
                self.optimizer.set_lr(new_lr)
            self.num_bad_epochs = 0
        return self.optimizer.get_lr()

    def step_update(self, num_updates: int) -> float:
        if self.warmup_updates > 0:
            if num_updates <= self.warmup_updates:
                self.optimizer.set_lr(self.warmup_init_lr + num_updates * self.lr_step)
            else:
                self.warmup_end = True
        return self.optimizer.get_lr()

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "num_bad_epochs": self.num_bad_epochs,
            "warmup_end": self.warmup_end,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.num_bad_epochs = state_dict.get("num_bad_epochs", 0)
        self.warmup_end = state_dict.get("warmup_end", self.warmup_end)
