"""Optimizer checks: resuming from a checkpoint gives the same next update; lr get and set."""

from __future__ import annotations

import copy
from typing import Any

import torch

from seqcore.config import make_config
from seqcore.registry import OPTIMIZERS
from seqcore.testing.components import entry
from seqcore.testing.contract import ContractError


def _params(seed: int = 0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(4, 3, generator=g)), torch.nn.Parameter(torch.zeros(3))]


def _grads(step: int, params: list[torch.Tensor]) -> None:
    g = torch.Generator().manual_seed(100 + step)
    for p in params:
        p.grad = torch.randn(p.shape, generator=g)


def build_optimizer(name: str, params: list, overrides: dict[str, Any] | None = None) -> Any:
    found = entry(OPTIMIZERS, name)
    return found.obj(make_config(found.config_class, name, dict(overrides or {})), params)


def check_optimizer(name: str, overrides: dict[str, Any] | None = None, steps: int = 3) -> None:
    """Checks of optimizer ``name``: ``set_lr``/``get_lr`` agree, and an optimizer loaded from
    another's ``state_dict`` after ``steps`` updates makes the same next update."""
    label = f"optimizer {name!r}"
    params = _params()
    opt = build_optimizer(name, params, overrides)
    opt.set_lr(0.0125)
    if opt.get_lr() != 0.0125:
        raise ContractError(
            label,
            "get_lr() returns the rate set by set_lr()",
            f"set 0.0125, got {opt.get_lr()}",
            "read and write param_group['lr'] of the wrapped optimizer (the base class does)",
        )
    for step in range(steps):
        _grads(step, params)
        opt.step()
    state = copy.deepcopy(opt.state_dict())
    twin_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    twin = build_optimizer(name, twin_params, overrides)
    twin.load_state_dict(state)
    if twin.get_lr() != opt.get_lr():
        raise ContractError(
            label,
            "load_state_dict restores the learning rate",
            f"{opt.get_lr()} before, {twin.get_lr()} after",
            "keep lr in the param groups that state_dict saves",
        )
    for o, ps in [(opt, params), (twin, twin_params)]:
        _grads(steps, ps)
        o.step()
    diff = max(float((a - b).detach().abs().max()) for a, b in zip(params, twin_params))
    if diff > 1e-6:
        raise ContractError(
            label,
            "an optimizer loaded from state_dict makes the same next update",
            f"parameters differ by {diff:.3g} after one more step",
            "save every running statistic (moments, step counts) in state_dict and restore it "
            "in load_state_dict",
        )
