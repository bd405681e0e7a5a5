"""The task contract: data, dictionaries, and how a batch is trained and validated.

A task is built by the classmethod ``setup_task(cfg)`` (which typically loads dictionaries) and
then loads splits with ``load_dataset(split)``. The training loop reads, as in fairseq::

    itr = task.get_batch_iterator(task.dataset("train"), max_tokens=4096)
    for sample in itr.next_epoch_itr():
        loss, sample_size, log = task.train_step(sample, model, criterion, optimizer, n)
"""

from __future__ import annotations

import abc
from typing import Any

import torch

from seqcore.config.component import config_name
from seqcore.config.legacy import component_args
from seqcore.data.iterators import get_batch_iterator
from seqcore.errors import DataError, RegistrationError
from seqcore.models.registry import build_model
from seqcore.registry import CRITERIONS


class Task(abc.ABC):
    """Base of tasks."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.datasets: dict[str, Any] = {}

    @property
    def args(self) -> Any:
        """fairseq's ``LegacyFairseqTask.args``: the config (a legacy task's Namespace)."""
        return self.cfg

    @args.setter
    def args(self, value: Any) -> None:
        self.cfg = value

    @classmethod
    def setup_task(cls, cfg: Any, **kwargs: Any) -> Task:
        """Build the task from its config (loading dictionaries and the like)."""
        return cls(cfg, **kwargs)

    # -- data ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False) -> None:
        """Load ``split`` into ``self.datasets[split]``."""

    def dataset(self, split: str) -> Any:
        """The loaded dataset of ``split``; an error when it was not loaded."""
        if split not in self.datasets:
            raise DataError(f"split {split!r} is not loaded (call task.load_dataset({split!r}))")
        return self.datasets[split]

    @property
    def source_dictionary(self) -> Any:
        return None

    @property
    def target_dictionary(self) -> Any:
        return None

    def max_positions(self) -> Any:
        """The longest example the task allows (``None``: no limit)."""
        return None

    def get_batch_iterator(self, dataset: Any, **kwargs: Any) -> Any:
        """An epoch iterator over batches of ``dataset``; see :mod:`seqcore.data.iterators`."""
        return get_batch_iterator(dataset, **kwargs)

    # -- components ----------------------------------------------------------------------------
    def build_model(self, cfg: Any) -> torch.nn.Module:
        """Build the model ``cfg`` (a resolved model config) was made for."""
        return build_model(cfg, self)

    def build_criterion(self, cfg: Any) -> Any:
        """Build the criterion ``cfg`` (a resolved criterion config) was made for: with the
        class's own ``build_criterion(cfg, task)`` where it has one (as fairseq), else
        ``Criterion(cfg, task)``; a legacy criterion (``add_args``) receives the run's options
        as an ``argparse.Namespace``."""
        name = config_name(cfg)
        if name is None:
            raise RegistrationError("build_criterion needs a config made by seqcore's resolver")
        cls = CRITERIONS.get(name).obj
        build = getattr(cls, "build_criterion", cls)
        return build(component_args(cfg), self)

    # -- steps ---------------------------------------------------------------------------------
    def train_step(
        self,
        sample: dict[str, Any],
        model: torch.nn.Module,
        criterion: Any,
        optimizer: Any,
        update_num: int,
        ignore_grad: bool = False,
    ) -> tuple[torch.Tensor, int | float, dict[str, Any]]:
        """Forward and backward on one batch; returns ``(loss, sample_size, logging_output)``."""
        model.train()
        loss, sample_size, logging_output = criterion(model, sample)
        if ignore_grad:
            loss = loss * 0
        optimizer.backward(loss)
        return loss, sample_size, logging_output

    def valid_step(
        self, sample: dict[str, Any], model: torch.nn.Module, criterion: Any
    ) -> tuple[torch.Tensor, int | float, dict[str, Any]]:
        """Forward only, without gradients; returns ``(loss, sample_size, logging_output)``."""
        model.eval()
        with torch.no_grad():
            return criterion(model, sample)

    def reduce_metrics(self, logging_outputs: list[dict[str, Any]], criterion: Any) -> dict:
        return criterion.reduce_metrics(logging_outputs)
