"""The optimizer contract: a wrapper around a ``torch.optim.Optimizer``.

Built as ``Optimizer(cfg, params)``; a subclass calls ``super().__init__(cfg, params)``, then
creates the optimizer it wraps over ``self.params`` and assigns it, as in fairseq::

    self.optimizer = torch.optim.SGD(self.params, lr=cfg.lr[0])

It is a ``torch.optim.Optimizer``, or a
:class:`~seqcore.optim.functional_optimizer.FunctionalOptimizer` (the same interface over torch's
functional kernels, without the import of torch.compile that a ``torch.optim`` optimizer makes).
The trainer talks only to this wrapper (``backward``, ``step``, ``clip_grad_norm``, ...) so that
mixed precision or sharding can wrap it in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from seqcore.optim.functional_optimizer import FunctionalOptimizer

TorchOptimizer = torch.optim.Optimizer | FunctionalOptimizer


class Optimizer:
    """Base of optimizers."""

    def __init__(self, cfg: Any, params: Iterable[torch.nn.Parameter] | Iterable[dict]) -> None:
        self.cfg = cfg
        self.params = list(params)
        self._optimizer: TorchOptimizer | None = None
        # Set by the trainer under --fp16: losses are scaled before backward.
        self.grad_scaler: torch.amp.GradScaler | None = None

    @property
    def optimizer(self) -> TorchOptimizer:
        """The wrapped ``torch.optim.Optimizer`` (or :class:`FunctionalOptimizer`); a subclass
        sets it in its ``__init__`` (``self.optimizer = ...``)."""
        if self._optimizer is None:
            raise NotImplementedError(
                f"{type(self).__name__} did not set the optimizer it wraps "
                f"(self.optimizer = ... in its __init__)"
            )
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer: TorchOptimizer) -> None:
        if not isinstance(optimizer, (torch.optim.Optimizer, FunctionalOptimizer)):
            raise TypeError(
                f"{type(self).__name__}.optimizer must be a torch.optim.Optimizer or a "
                f"seqcore.optim.FunctionalOptimizer, got {type(optimizer).__name__}"
            )
        self._optimizer = optimizer

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    def _parameters(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def backward(self, loss: torch.Tensor) -> None:
        if self.grad_scaler is not None:
            loss = self.grad_scaler.scale(loss)
        loss.backward()

    def step(self, closure: Callable[[], float] | None = None) -> None:
        self.optimizer.step(closure)

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def multiply_grads(self, factor: float) -> None:
        """Multiply every gradient by ``factor`` (the trainer divides by the sample size)."""
        grads = [p.grad for p in self._parameters() if p.grad is not None]
        if grads:
            torch._foreach_mul_(grads, factor)

    def clip_grad_norm(self, max_norm: float) -> torch.Tensor:
        """Clip gradients to a total L2 norm of ``max_norm`` (0: no clipping) and return the
        norm before clipping."""
        params = [p for p in self._parameters() if p.grad is not None]
        if not params:
            return torch.tensor(0.0)
        if max_norm > 0:
            return torch.nn.utils.clip_grad_norm_(params, max_norm)
        return torch.nn.utils.get_total_norm([p.grad for p in params])

    def get_lr(self) -> float:
        return self.param_groups[0]["lr"]

    def set_lr(self, lr: float) -> None:
        for group in self.param_groups:
            group["lr"] = lr

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict)
