"""``tri_stage``: warmup, hold, exponential decay, then constant (arXiv:1904.08779).

fairseq's ``tri_stage`` schedule (wav2vec 2.0 / SpecAugment). With ``peak = lr``,
``init = init_lr_scale * lr`` and ``final = final_lr_scale * lr``:

- warmup, ``n < W``: ``init + n * (peak - init) / W``;
- hold, ``W <= n < W + H``: ``peak``;
- decay, ``W + H <= n <= W + H + D``: ``peak * exp(-k * (n - W - H))`` with
  ``k = -ln(final_lr_scale) / D``, reaching ``final`` at the end;
- afterwards: ``final``.

``--phase-ratio a,b,c`` (summing to 1) sets ``W, H, D = int(max_update * a), ...`` instead of
``--warmup-steps``, ``--hold-steps`` and ``--decay-steps``.
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
class TriStageLRScheduleConfig(LearningRateConfig):
    warmup_steps: int = field(
        default=0, metadata={"help": "warmup the learning rate linearly for the first N updates"}
    )
    hold_steps: int = field(default=0, metadata={"help": "steps in hold stage"})
    decay_steps: int = field(default=0, metadata={"help": "steps in decay stages"})
    phase_ratio: tuple[float, ...] | None = field(
        default=None,
        metadata={
            "help": "if set, sets warmup/hold/decay steps to these fractions of --max-update; "
            "the three ratios must add up to 1.0"
        },
    )
    init_lr_scale: float = field(
        default=0.01, metadata={"help": "initial learning rate scale during warmup phase"}
    )
    final_lr_scale: float = field(default=0.01, metadata={"help": "final learning rate scale"})
    max_update: int = field(default=0, metadata={"help": "force stop training at specified update"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require_one_lr("tri_stage", self.lr)
        if self.final_lr_scale <= 0:
            raise ConfigError(f"--final-lr-scale {self.final_lr_scale} must be positive")
        if min(self.warmup_steps, self.hold_steps, self.decay_steps) < 0:
            raise ConfigError("--warmup-steps, --hold-steps and --decay-steps must not be negative")
        if self.phase_ratio is not None:
            ratios = tuple(self.phase_ratio)
            if len(ratios) != 3 or min(ratios) < 0 or not math.isclose(sum(ratios), 1.0):
                raise ConfigError(
                    f"--phase-ratio {ratios} must be three non-negative numbers adding up to 1"
                )
            if self.max_update <= 0:
                raise ConfigError("--phase-ratio needs --max-update > 0")
        elif self.warmup_steps + self.hold_steps + self.decay_steps <= 0:
            raise ConfigError(
                "--lr-scheduler tri_stage needs --warmup-steps, --hold-steps, --decay-steps "
                "or --phase-ratio"
            )


@register_lr_scheduler("tri_stage", dataclass=TriStageLRScheduleConfig)
class TriStageLRSchedule(LRScheduler):
    """Three stages after one another: linear warmup, hold at ``--lr``, exponential decay."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        super().__init__(cfg, optimizer)
        self.peak_lr = cfg.lr[0]
        self.init_lr = cfg.init_lr_scale * self.peak_lr
        self.final_lr = cfg.final_lr_scale * self.peak_lr
        if cfg.phase_ratio is not None:
            warmup, hold, decay = (int(cfg.max_update * ratio) for ratio in cfg.phase_ratio)
        else:
            warmup, hold, decay = cfg.warmup_steps, cfg.hold_steps, cfg.decay_steps
        self.warmup_steps, self.hold_steps, self.decay_steps = warmup, hold, decay
        self.warmup_rate = (self.peak_lr - self.init_lr) / warmup if warmup else 0.0
        self.decay_factor = -math.log(cfg.final_lr_scale) / decay if decay else 0.0
        self.lr = self.init_lr
        self.optimizer.set_lr(self.lr)

    def stage(self, num_updates: int) -> tuple[int, int]:
        """(stage 0-3, updates into that stage) at ``num_updates``."""
        offset = 0
        if num_updates < offset + self.warmup_steps:
            return 0, num_updates - offset
        offset += self.warmup_steps
        if num_updates < offset + self.hold_steps:
            return 1, num_updates - offset
        offset += self.hold_steps
        if num_updates <= offset + self.decay_steps:
            return 2, num_updates - offset
        offset += self.decay_steps
        return 3, num_updates - offset

    def step_update(self, num_updates: int) -> float:
        stage, steps = self.stage(num_updates)
        if stage == 0:
            self.lr = self.init_lr + self.warmup_rate * steps
        elif stage == 1:
            self.lr = self.peak_lr
        elif stage == 2:
            self.lr = self.peak_lr * math.exp(-self.decay_factor * steps)
        else:
            self.lr = self.final_lr
        self.optimizer.set_lr(self.lr)
        return self.lr
