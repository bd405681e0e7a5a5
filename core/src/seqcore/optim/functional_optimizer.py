"""A stand-in for ``torch.optim.Optimizer`` whose update calls one of torch's functional kernels.

Why not ``torch.optim.Optimizer`` itself: its methods carry torch.compile guards, and the first
call of any of them (building the optimizer is one) imports ``torch._dynamo``: about 0.9 s and
70 MiB of resident memory in every training process, for a compiler that a run without
``--compile`` never touches. The update itself is torch's own code either way
(``torch.optim.adam.adam``, ``torch.optim.sgd.sgd``: the functions ``torch.optim.AdamW`` and
``torch.optim.SGD`` call), so the arithmetic is the same to the bit.

What is kept of torch's interface is what the trainer, the learning-rate schedulers and
``torch.amp.GradScaler`` use: ``param_groups`` (dicts holding ``params`` and the
hyper-parameters), per-parameter ``state``, ``step``, ``zero_grad`` and ``state_dict`` /
``load_state_dict`` in torch's format, so that a checkpoint holds the same data either way.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from typing import Any

import torch


class FunctionalOptimizer(abc.ABC):
    """Parameter groups and state; a subclass implements :meth:`update` for one group."""

    def __init__(
        self, params: Iterable[torch.Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]
    ) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[torch.Tensor, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError("the optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add ``group`` (its ``params`` and any hyper-parameters that differ from the
        defaults)."""
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("a parameter appears in more than one parameter group")
        self.param_groups.append({**self.defaults, **group, "params": params})

    @abc.abstractmethod
    def update(
        self, group: dict[str, Any], params: list[torch.Tensor], states: list[dict[str, Any]]
    ) -> None:
        """Update ``params`` (those of ``group`` that have a gradient) in place; ``states``
        holds each one's state dict, empty before its first update, to fill and keep."""

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self.update(group, params, [self.state.setdefault(p, {}) for p in params])
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (or zero it in place when ``set_to_none`` is false)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    def state_dict(self) -> dict[str, Any]:
        """torch's format: parameters numbered in group order, ``state`` by number, each
        group's hyper-parameters with the numbers of its parameters."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            numbers = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": numbers})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the state and hyper-parameters of ``state_dict`` (from :meth:`state_dict` or
        a ``torch.optim`` optimizer over the same parameters in the same order)."""
        saved_groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g["params"]) for g in saved_groups] != sizes:
            raise ValueError(
                "the saved optimizer state has parameter groups of other sizes than this model's"
            )
        by_number = {
            number: p
            for saved, own in zip(saved_groups, self.param_groups)
            for number, p in zip(saved["params"], own["params"])
        }
        fused = {id(p) for g in self.param_groups if g.get("fused") for p in g["params"]}
        self.state = {}
        for number, saved_state in state_dict["state"].items():
            p = by_number[int(number)]
            self.state[p] = {
                key: _state_value(key, value, p, id(p) in fused)
                for key, value in saved_state.items()
            }
        self.param_groups = [
            {**{k: v for k, v in saved.items() if k != "params"}, "params": own["params"]}
            for saved, own in zip(saved_groups, self.param_groups)
        ]


def _state_value(key: str, value: Any, param: torch.Tensor, fused: bool) -> Any:
    """A loaded state value placed as torch places it: step counters in float32, on the
    parameter's device for fused kernels (which read them there) and on the CPU otherwise;
    other floating point tensors in the parameter's dtype and device."""
    if not isinstance(value, torch.Tensor):
        return value
    if key == "step":
        return value.to(dtype=torch.float32, device=param.device if fused else "cpu")
    if value.is_floating_point():
        return value.to(dtype=param.dtype, device=param.device)
    return value.to(device=param.device)
