"""The criterion contract: a loss over a batch, and how its logs add up."""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import nn


class Criterion(nn.Module, abc.ABC):
    """Base of criterions, built as ``Criterion(cfg, task)``.

    ``forward(model, sample, reduce=True)`` returns ``(loss, sample_size, logging_output)``: the
    loss summed over the batch, the number the gradient is divided by (target tokens, or sentences
    with ``--sentence-avg``), and plain numbers to log. ``reduce_metrics`` turns the logging
    outputs of many batches (and ranks) into the figures reported to the user.
    """

    def __init__(self, cfg: Any, task: Any) -> None:
        super().__init__()
        self.cfg = cfg
        self.task = task
        target_dictionary = getattr(task, "target_dictionary", None) if task else None
        self.padding_idx = target_dictionary.pad() if target_dictionary is not None else -100

    @property
    def args(self) -> Any:
        """fairseq's ``LegacyFairseqCriterion.args``: the config (a legacy criterion's
        Namespace)."""
        return self.cfg

    @args.setter
    def args(self, value: Any) -> None:
        self.cfg = value

    @abc.abstractmethod
    def forward(
        self, model: nn.Module, sample: dict[str, Any], reduce: bool = True
    ) -> tuple[torch.Tensor, int | float, dict[str, Any]]:
        """``(loss, sample_size, logging_output)`` of one batch."""

    @classmethod
    def reduce_metrics(cls, logging_outputs: list[dict[str, Any]]) -> dict[str, float]:
        """Aggregate logging outputs; the default sums each key."""
        keys = {k for log in logging_outputs for k in log}
        return {k: float(sum(log.get(k, 0) for log in logging_outputs)) for k in sorted(keys)}

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        """Whether logging outputs may be summed across ranks before ``reduce_metrics``."""
        return True
