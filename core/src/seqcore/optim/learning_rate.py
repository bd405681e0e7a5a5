"""``--lr``: the learning rate that optimizers and learning-rate schedulers share.

fairseq declares ``--lr`` once, among the optimization options, and hands it to the optimizer
and the schedule. Here each of them subclasses :class:`LearningRateConfig`, so the field is
declared (and checked) once and, shared by name, is one flag feeding both: the optimizer starts
at ``lr[0]``, and the schedule then sets the rate in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seqcore.errors import ConfigError


@dataclass
class LearningRateConfig:
    """Base of the config of an optimizer or a schedule: the ``lr`` list. A subclass that has
    a ``__post_init__`` calls ``super().__post_init__()`` first."""

    lr: list[float] = field(
        default_factory=lambda: [0.25],
        metadata={
            "help": "learning rate: one value, or one per epoch (the last repeating) with "
            "--lr-scheduler fixed"
        },
    )

    def __post_init__(self) -> None:
        if not self.lr:
            raise ConfigError("--lr needs at least one value")
        if any(lr < 0 for lr in self.lr):
            raise ConfigError(f"--lr {self.lr} must not be negative")
