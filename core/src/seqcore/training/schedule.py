"""When a training run validates, saves and stops: fairseq's rules as plain functions of the
configuration and of where the run stands, so that the loop only acts on their answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Due:
    """What is due after an update."""

    validate: bool
    save: bool


def due_after_update(
    cfg: Any, epoch: int, num_updates: int, end_of_epoch: bool, stopping: bool
) -> Due:
    """fairseq's ``validate_and_save`` rule. Save at the end of every ``--save-interval`` epochs
    (and of the last epoch), every ``--save-interval-updates`` updates and when training stops;
    validate at the end of every ``--validate-interval`` epochs, every
    ``--validate-interval-updates`` updates, before every mid-epoch save (so that
    checkpoint_best can follow it) and when training stops. Asked once per update, so
    intervals that coincide validate and save once."""

    def every(interval: int) -> bool:
        return interval > 0 and num_updates > 0 and num_updates % interval == 0

    epoch_save = end_of_epoch and (
        epoch % cfg.checkpoint.save_interval == 0 or is_last_epoch(cfg, epoch)
    )
    save = stopping or epoch_save or every(cfg.checkpoint.save_interval_updates)
    validate = (
        stopping
        or every(cfg.dataset.validate_interval_updates)
        or (save and not end_of_epoch)
        or (end_of_epoch and epoch % cfg.dataset.validate_interval == 0)
    )
    return Due(validate=validate, save=save)


def is_last_epoch(cfg: Any, epoch: int) -> bool:
    limit = cfg.optimization.max_epoch
    return limit > 0 and epoch >= limit


def epoch_limit(cfg: Any, next_epoch: int, num_updates: int) -> str | None:
    """Why epoch ``next_epoch`` must not start (``--max-epoch`` or ``--max-update`` reached),
    or None."""
    limit = cfg.optimization.max_epoch
    if limit > 0 and next_epoch > limit:
        return f"--max-epoch {limit} reached"
    return update_limit(cfg, num_updates)


def update_limit(cfg: Any, num_updates: int) -> str | None:
    """Why training stops after ``num_updates`` updates (``--max-update``), or None."""
    limit = cfg.optimization.max_update
    if limit > 0 and num_updates >= limit:
        return f"--max-update {limit} reached"
    return None


def lr_limit(cfg: Any, lr: float) -> str | None:
    """Why training stops at learning rate ``lr`` (``--stop-min-lr``), or None."""
    floor = cfg.optimization.stop_min_lr
    if floor >= 0 and lr <= floor:
        return f"learning rate {lr:.3g} reached --stop-min-lr"
    return None


def time_limit(cfg: Any, seconds: float) -> str | None:
    """Why training stops after ``seconds`` of training (``--stop-time-hours``), or None."""
    hours = cfg.optimization.stop_time_hours
    if hours > 0 and seconds >= hours * 3600:
        return f"--stop-time-hours {hours:g} reached"
    return None
