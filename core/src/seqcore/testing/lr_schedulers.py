"""Learning-rate scheduler checks: determinism, resuming, and rates that stay usable."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch

from seqcore.config import make_config
from seqcore.registry import LR_SCHEDULERS
from seqcore.testing.components import entry
from seqcore.testing.contract import ContractError
from seqcore.testing.optimizers import build_optimizer


def build_lr_scheduler(name: str, overrides: dict[str, Any] | None = None) -> Any:
    found = entry(LR_SCHEDULERS, name)
    values = dict(overrides or {})
    optimizer = build_optimizer("sgd", [torch.nn.Parameter(torch.zeros(2))], {"lr": [1.0]})
    scheduler = found.obj(make_config(found.config_class, name, values), optimizer)
    return scheduler


def _run(scheduler: Any, start: int, stop: int, updates_per_epoch: int) -> list[float]:
    """The rates of updates start..stop-1, with epoch boundaries (and a validation loss that
    improves, then stalls) every ``updates_per_epoch`` updates."""
    rates = []
    for n in range(start, stop):
        if n % updates_per_epoch == 0:
            epoch = n // updates_per_epoch + 1
            if epoch > 1:
                scheduler.step(epoch - 1, val_loss=max(1.0, 5.0 - epoch))
            rates.append(float(scheduler.step_begin_epoch(epoch)))
        rates.append(float(scheduler.step_update(n + 1)))
    return rates


def check_lr_scheduler(
    name: str,
    overrides: dict[str, Any] | None = None,
    num_updates: int = 5000,
    updates_per_epoch: int = 100,
) -> None:
    """Checks of scheduler ``name``: the same rates twice, a rate that is finite and not
    negative at every one of ``num_updates`` updates, and a scheduler loaded from another's
    ``state_dict`` halfway going on with the same rates."""
    label = f"lr scheduler {name!r}"
    first = _run(build_lr_scheduler(name, overrides), 0, num_updates, updates_per_epoch)
    for i, lr in enumerate(first):
        if not math.isfinite(lr) or lr < 0:
            raise ContractError(
                label,
                "the learning rate is finite and not negative at every update",
                f"lr {lr} at call {i} of {len(first)}",
                "clamp the schedule (e.g. max(0.0, ...)) and guard divisions by zero",
            )
    second = _run(build_lr_scheduler(name, overrides), 0, num_updates, updates_per_epoch)
    if first != second:
        i = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
        raise ContractError(
            label,
            "the schedule is deterministic",
            f"call {i} gave {first[i]} then {second[i]}",
            "compute the rate from the update number and the scheduler's state only",
        )
    half = (num_updates // updates_per_epoch // 2) * updates_per_epoch + updates_per_epoch // 2
    original = build_lr_scheduler(name, overrides)
    _run(original, 0, half, updates_per_epoch)
    state = copy.deepcopy(original.state_dict())
    resumed = build_lr_scheduler(name, overrides)
    resumed.optimizer.load_state_dict(copy.deepcopy(original.optimizer.state_dict()))
    resumed.load_state_dict(state)
    expected = _run(original, half, num_updates, updates_per_epoch)
    got = _run(resumed, half, num_updates, updates_per_epoch)
    if expected != got:
        i = next(i for i, (a, b) in enumerate(zip(expected, got)) if a != b)
        raise ContractError(
            label,
            "a scheduler loaded from state_dict goes on with the same rates",
            f"after resuming at update {half}, call {i} gave {got[i]} instead of {expected[i]}",
            "save everything the schedule depends on (best value, counters, current lr) in "
            "state_dict and restore it in load_state_dict",
        )
