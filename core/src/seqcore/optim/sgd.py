"""``sgd``: stochastic gradient descent with optional momentum and L2 weight decay.

fairseq's ``sgd`` optimizer: torch's SGD update (``torch.optim.sgd.sgd``, what ``torch.optim.SGD``
calls) at the first value of ``--lr`` (learning-rate schedulers then set the rate in force).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.optim.sgd import sgd

from seqcore.errors import ConfigError
from seqcore.optim.base import Optimizer
from seqcore.optim.functional_optimizer import FunctionalOptimizer
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.registry import register_optimizer


@dataclass
class SGDConfig(LearningRateConfig):
    momentum: float = field(default=0.0, metadata={"help": "momentum factor"})
    weight_decay: float = field(default=0.0, metadata={"help": "weight decay"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.momentum < 0:
            raise ConfigError(f"--momentum {self.momentum} must not be negative")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight-decay {self.weight_decay} must not be negative")


class FunctionalSGD(FunctionalOptimizer):
    """SGD with momentum and L2 weight decay; ``torch.optim.SGD``'s update and state."""

    def update(
        self, group: dict[str, Any], params: list[torch.Tensor], states: list[dict[str, Any]]
    ) -> None:
        buffers = [state.get("momentum_buffer") for state in states]
        sgd(
            params,
            [p.grad for p in params],
            buffers,
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            lr=group["lr"],
            dampening=0.0,
            nesterov=False,
            maximize=False,
        )
        if group["momentum"] != 0:  # the kernel made the buffers of a first step
            for state, buffer in zip(states, buffers):
                state["momentum_buffer"] = buffer


@register_optimizer("sgd", dataclass=SGDConfig)
class SGD(Optimizer):
    """torch's SGD behind seqcore's optimizer wrapper."""

    def __init__(self, cfg: Any, params: Iterable[torch.nn.Parameter] | Iterable[dict]) -> None:
        super().__init__(cfg, params)
        self.optimizer = FunctionalSGD(
            self.params,
            {"lr": cfg.lr[0], "momentum": cfg.momentum, "weight_decay": cfg.weight_decay},
        )
