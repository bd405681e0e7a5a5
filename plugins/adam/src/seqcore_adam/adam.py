"""``adam``: Adam with decoupled weight decay, as fairseq's ``adam`` optimizer.

fairseq's Adam applies weight decay as ``p -= lr * weight_decay * p`` apart from the adaptive
update (AdamW, arXiv:1711.05101), so this plug-in makes ``torch.optim.AdamW``'s update: torch's
functional ``torch.optim.adam.adam`` with decoupled weight decay, behind seqcore's
:class:`~seqcore.optim.FunctionalOptimizer` (building a ``torch.optim`` optimizer would import
torch.compile: 0.9 s and 70 MiB in every training process). The kernel is
chosen by ``--adam-impl``: ``auto`` uses torch's fused kernel when it can take every parameter
(floating point, on CUDA or the CPU: on the CPU it is about 6x faster than ``foreach``, which
makes a pass over memory per operation) and the multi-tensor ``foreach`` kernel otherwise;
``fused``, ``foreach`` and ``single`` (one parameter at a time) force one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch.optim.adam import adam

from seqcore.errors import ConfigError
from seqcore.optim import (
    FunctionalOptimizer,
    LearningRateConfig,
    Optimizer,
    register_optimizer,
)


@dataclass
class AdamConfig(LearningRateConfig):
    adam_betas: tuple[float, float] = field(
        default=(0.9, 0.999), metadata={"help": "betas for Adam optimizer"}
    )
    adam_eps: float = field(default=1e-8, metadata={"help": "epsilon for Adam optimizer"})
    weight_decay: float = field(default=0.0, metadata={"help": "weight decay"})
    adam_impl: Literal["auto", "fused", "foreach", "single"] = field(
        default="auto",
        metadata={
            "help": "Adam kernel: fused where torch has one for every parameter, else "
            "foreach (auto), or forced to fused, foreach or single (one tensor at a time)"
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        betas = tuple(self.adam_betas)
        if len(betas) != 2 or not all(0.0 <= beta < 1.0 for beta in betas):
            raise ConfigError(f"--adam-betas {betas} must be two numbers in [0, 1)")
        if not self.adam_eps > 0:
            raise ConfigError(f"--adam-eps {self.adam_eps} must be positive")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight-decay {self.weight_decay} must not be negative")


def fused_devices() -> set[str]:
    """Device types torch's fused Adam kernels run on."""
    from torch.optim import optimizer as torch_optimizer

    supported = getattr(torch_optimizer, "_get_fused_kernels_supported_devices", None)
    return set(supported()) if supported is not None else {"cuda", "cpu"}


def fused_unsupported(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """The parameters the fused kernel cannot take (it wants real floating point tensors on a
    device it supports). torch only checks on the first step; checking here turns a forced
    ``--adam-impl fused`` that cannot work into a configuration error at build time."""
    devices = fused_devices()
    return [p for p in params if not (p.is_floating_point() and p.device.type in devices)]


def kernel_options(impl: str, params: list[torch.Tensor]) -> dict[str, bool]:
    """The ``fused``/``foreach`` keyword arguments of torch's Adam kernels for ``impl``."""
    if impl == "auto":
        impl = "fused" if params and not fused_unsupported(params) else "foreach"
    if impl == "fused":
        return {"fused": True, "foreach": False}
    return {"fused": False, "foreach": impl == "foreach"}


def tensors_of(params: list[Any]) -> list[torch.Tensor]:
    """Every parameter tensor, whether ``params`` holds tensors or parameter-group dicts."""
    tensors: list[torch.Tensor] = []
    for item in params:
        if isinstance(item, dict):
            group = item["params"]
            tensors.extend([group] if isinstance(group, torch.Tensor) else group)
        else:
            tensors.append(item)
    return tensors


class FunctionalAdamW(FunctionalOptimizer):
    """``torch.optim.AdamW``'s update and state (``step``, ``exp_avg``, ``exp_avg_sq``)."""

    def update(
        self, group: dict[str, Any], params: list[torch.Tensor], states: list[dict[str, Any]]
    ) -> None:
        for p, state in zip(params, states):
            if not state:  # as torch: the fused kernel reads its step counters on the device
                device = p.device if group["fused"] else "cpu"
                state["step"] = torch.zeros((), dtype=torch.float32, device=device)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        beta1, beta2 = group["betas"]
        adam(
            params,
            [p.grad for p in params],
            [state["exp_avg"] for state in states],
            [state["exp_avg_sq"] for state in states],
            [],
            [state["step"] for state in states],
            foreach=group["foreach"],
            fused=group["fused"],
            has_complex=any(torch.is_complex(p) for p in params),
            decoupled_weight_decay=True,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
        )


@register_optimizer("adam", dataclass=AdamConfig)
class Adam(Optimizer):
    """AdamW at the first value of ``--lr``, kernel picked by ``--adam-impl``."""

    def __init__(self, cfg: Any, params: Iterable[torch.nn.Parameter] | Iterable[dict]) -> None:
        super().__init__(cfg, params)
        tensors = tensors_of(self.params)
        unsupported = fused_unsupported(tensors) if cfg.adam_impl == "fused" else []
        if unsupported:
            kinds = sorted({f"{p.dtype} on {p.device.type}" for p in unsupported})
            raise ConfigError(
                f"--adam-impl fused: the fused kernel cannot take parameters of "
                f"{', '.join(kinds)}; use --adam-impl foreach"
            )
        self.optimizer = FunctionalAdamW(
            self.params,
            {
                "lr": cfg.lr[0],
                "betas": tuple(cfg.adam_betas),
                "eps": cfg.adam_eps,
                "weight_decay": cfg.weight_decay,
                **kernel_options(cfg.adam_impl, tensors),
            },
        )
