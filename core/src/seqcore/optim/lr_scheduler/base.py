"""The learning-rate scheduler contract.

Built as ``LRScheduler(cfg, optimizer)`` where ``optimizer`` is a :class:`seqcore.optim.Optimizer`.
The trainer calls ``step_begin_epoch(epoch)`` before each epoch, ``step_update(num_updates)``
after every update and ``step(epoch, val_loss)`` after each epoch's validation; each returns the
learning rate now in force and sets it on the optimizer.

``val_loss`` is the validation value of ``--best-checkpoint-metric`` (``loss`` by default, but
``bleu`` or any metric the task reports), and lower is better unless
``--maximize-best-checkpoint-metric`` is given. As in fairseq, a schedule that reacts to the
metric reads the direction from its own config: it declares the field
``maximize_best_checkpoint_metric: bool`` (as ``reduce_lr_on_plateau`` does), which makes the
flag feed it as well as the checkpoint choice.
"""

from __future__ import annotations

from typing import Any

from seqcore.errors import ConfigError


def require_one_lr(scheduler: str, lr: list[float]) -> None:
    """Schedules other than ``fixed`` start from a single ``--lr``; a list is a user error."""
    if len(lr) != 1:
        raise ConfigError(
            f"--lr-scheduler {scheduler} takes one --lr value, got {lr}; "
            "use --lr-scheduler fixed for one value per epoch"
        )


class LRScheduler:
    """Base of learning-rate schedulers."""

    def __init__(self, cfg: Any, optimizer: Any) -> None:
        self.cfg = cfg
        self.optimizer = optimizer
        self.best: float | None = None

    def step_begin_epoch(self, epoch: int) -> float:
        """Called at the start of each epoch; returns the learning rate."""
        return self.optimizer.get_lr()

    def step(self, epoch: int, val_loss: float | None = None) -> float:
        """Called at the end of each epoch with the value of ``--best-checkpoint-metric`` (``None``
        without validation); records the lowest value seen, as fairseq's base does (a schedule
        that honours ``--maximize-best-checkpoint-metric`` keeps its own ``best``)."""
        if val_loss is not None:
            self.best = val_loss if self.best is None else min(self.best, val_loss)
        return self.optimizer.get_lr()

    def step_update(self, num_updates: int) -> float:
        """Called after every update; returns the learning rate."""
        return self.optimizer.get_lr()

    def state_dict(self) -> dict[str, Any]:
        """The best validation loss and the learning rate in force; schedules with more state
        extend both methods."""
        return {"best": self.best, "lr": self.optimizer.get_lr()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")
        if "lr" in state_dict:
            self.optimizer.set_lr(state_dict["lr"])
