"""One update of a model: forward and backward over micro-batches, gradient normalisation,
clipping, the optimizer step and the learning-rate schedule, with mixed precision and
data-parallel ranks.

Gradients are divided by the summed ``sample_size`` of every micro-batch of the update on every
rank, as in fairseq, so ``--update-freq 2`` on one process equals two ranks with one each.
Dropout is seeded from (``--seed``, update number, micro-batch), which makes a resumed run
reproduce an uninterrupted one exactly.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from typing import Any

import torch

from seqcore.config.resolve import ResolvedConfig
from seqcore.errors import CheckpointError, ConfigError, SeqcoreError
from seqcore.optim.base import Optimizer
from seqcore.optim.lr_scheduler.base import LRScheduler
from seqcore.registry import LR_SCHEDULERS, OPTIMIZERS
from seqcore.tasks.base import Task
from seqcore.training.distributed import (
    DistributedContext,
    ModelDDP,
    all_reduce_logs,
    all_reduce_sum,
)


class TrainingError(SeqcoreError):
    """Training cannot go on (non-finite gradients in too many updates in a row, say)."""


def _micro_batch_seed(seed: int, num_updates: int, index: int) -> int:
    return (seed * 1_000_003 + num_updates * 10_007 + index) % (2**63)


def _compiled(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``torch.compile(model)``; on the CPU its code generator builds C++ with the compiler in
    ``$CXX`` (default ``g++``), so a missing one is said before training, not as a traceback
    from the first forward pass."""
    if device.type == "cpu":
        cxx = os.environ.get("CXX", "g++")
        if shutil.which(cxx) is None:
            raise ConfigError(
                f"--compile on the CPU needs a C++ compiler and {cxx!r} was not found; install "
                f"g++ or set CXX"
            )
    return torch.compile(model)


class Trainer:
    """The model, criterion, optimizer and scheduler of a run, and how each update is made.

    Hooks receive the run's trainer (see :mod:`seqcore.hookspecs`) and may read the attributes
    annotated here; everything else is the trainer's own business.
    """

    #: the resolved configuration of the run (``cfg.model``, ``cfg.checkpoint``, ...)
    cfg: ResolvedConfig
    #: the task: data, dictionaries, ``train_step``
    task: Task
    #: the model being trained (not wrapped for data parallelism or ``--compile``)
    model: torch.nn.Module
    #: the criterion computing the loss
    criterion: torch.nn.Module
    #: the optimizer wrapper (``optimizer.get_lr()``, ``optimizer.optimizer``)
    optimizer: Optimizer
    #: the learning-rate scheduler
    lr_scheduler: LRScheduler
    #: where the model and batches live
    device: torch.device
    #: optimizer updates made so far in the run (resumed runs count from the checkpoint's)
    num_updates: int
    #: the epoch being trained, from 1 (the one a resumed run goes on with)
    epoch: int

    def __init__(
        self,
        cfg: Any,
        task: Any,
        model: torch.nn.Module,
        criterion: torch.nn.Module,
        device: torch.device,
        dist: DistributedContext | None = None,
    ) -> None:
        self.cfg = cfg
        self.task = task
        self.device = device
        self.dist = dist or DistributedContext()
        self.model = model.to(device)
        self.criterion = criterion.to(device)
        wrapped: torch.nn.Module = self.model
        if self.dist.enabled:
            ids = [device.index] if device.type == "cuda" else None
            skips = getattr(self.model, "may_skip_parameters", lambda: False)()
            wrapped = ModelDDP(self.model, device_ids=ids, find_unused_parameters=skips)
        if cfg.common.compile:
            wrapped = _compiled(wrapped, device)
        self.wrapped_model = wrapped
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = OPTIMIZERS.get(cfg.selections["optimizer"]).obj(cfg.optimizer, params)
        self.lr_scheduler = LR_SCHEDULERS.get(cfg.selections["lr_scheduler"]).obj(
            cfg.lr_scheduler, self.optimizer
        )
        self.autocast_dtype, use_scaler = self._precision(cfg.common, device)
        self.grad_scaler = self._loss_scaler(cfg, device) if use_scaler else None
        self.optimizer.grad_scaler = self.grad_scaler
        self.num_updates = 0
        self.epoch = 1
        self.nonfinite_in_a_row = 0
        self._dummy_sample: dict[str, Any] | None = None

    @staticmethod
    def _precision(common: Any, device: torch.device) -> tuple[torch.dtype | None, bool]:
        if common.fp16:
            return torch.float16, True
        if common.bf16:
            return torch.bfloat16, False
        if common.amp:
            return (torch.float16, True) if device.type == "cuda" else (torch.bfloat16, False)
        return None, False

    def _loss_scaler(self, cfg: Any, device: torch.device) -> torch.amp.GradScaler:
        """fairseq's dynamic loss scaling: start at --fp16-init-scale, halve on an overflow,
        double after --fp16-scale-window clean updates (by default 2^14 divided by the
        processes and the first --update-freq, fairseq's rule)."""
        window = cfg.common.fp16_scale_window
        if window is None:
            window = max(1, int(2**14 / self.dist.world_size / cfg.optimization.update_freq[0]))
        return torch.amp.GradScaler(
            device.type, init_scale=cfg.common.fp16_init_scale, growth_interval=window
        )

    def _update_loss_scale(self, overflow: bool) -> None:
        """After the scaler's step: its new scale, capped at --threshold-loss-scale; an
        overflow that brings it to --min-loss-scale stops training (fairseq's rule). A clean
        update without a threshold reads nothing back (on CUDA, each read waits for the GPU)."""
        assert self.grad_scaler is not None
        common = self.cfg.common
        if overflow:
            previous = float(self.grad_scaler.get_scale())
            self.grad_scaler.update()
            scale = float(self.grad_scaler.get_scale())
            if scale <= common.min_loss_scale:
                self.grad_scaler.update(previous)
                raise TrainingError(
                    f"the loss scale fell to {scale:g} at update {self.num_updates + 1} "
                    f"(--min-loss-scale {common.min_loss_scale:g}): the loss is probably "
                    "exploding; lower --lr, set --clip-norm or raise the batch size"
                )
            return
        self.grad_scaler.update()
        threshold = common.threshold_loss_scale
        if threshold is not None and float(self.grad_scaler.get_scale()) > threshold:
            self.grad_scaler.update(threshold)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _to_device(self, sample: Any) -> Any:
        if torch.is_tensor(sample):
            return sample.to(self.device, non_blocking=True)
        if isinstance(sample, dict):
            return {k: self._to_device(v) for k, v in sample.items()}
        if isinstance(sample, list):
            return [self._to_device(v) for v in sample]
        return sample

    # -- training ------------------------------------------------------------------------------
    def train_step(self, samples: list[dict[str, Any]]) -> dict[str, Any] | None:
        """One update over ``samples`` (the micro-batches of ``--update-freq``). Returns the
        update's summed logging outputs and figures, or ``None`` when the update was skipped
        for non-finite gradients."""
        self.model.train()
        self.criterion.train()
        self.optimizer.zero_grad()
        logs: list[dict[str, Any]] = []
        sample_size = 0.0
        for i, sample in enumerate(samples):
            is_dummy = not sample
            if is_dummy:  # a padding batch of an uneven shard: forward for DDP, no gradient
                if self._dummy_sample is None:
                    continue
                sample = self._dummy_sample
            else:
                sample = self._to_device(sample)
                self._dummy_sample = sample
            last = i == len(samples) - 1
            no_sync = self.wrapped_model.no_sync if (self.dist.enabled and not last) else None
            # the micro-batch's place in the global batch: the same on one process with
            # --update-freq N as on N ranks, so both draw the same dropout masks
            index = self.dist.rank * len(samples) + i
            torch.manual_seed(_micro_batch_seed(self.cfg.common.seed, self.num_updates, index))
            with no_sync() if no_sync else contextlib.nullcontext(), self.autocast():
                loss, size, log = self.task.train_step(
                    sample,
                    self.wrapped_model,
                    self.criterion,
                    self.optimizer,
                    self.num_updates,
                    ignore_grad=is_dummy,
                )
            if not is_dummy:
                logs.append(log)
                sample_size += float(size)
        logs = all_reduce_logs(logs, self.dist)
        sample_size = all_reduce_sum(sample_size, self.dist)
        if self.grad_scaler is not None:
            self.grad_scaler.unscale_(self.optimizer.optimizer)
        # DDP averages gradients over ranks: undo that, then divide by the total sample size
        factor = self.dist.world_size / sample_size if sample_size > 0 else 0.0
        self.optimizer.multiply_grads(factor)
        gnorm = float(self.optimizer.clip_grad_norm(self.cfg.optimization.clip_norm))
        if not math.isfinite(gnorm):
            return self._skip_update(logs)
        self.nonfinite_in_a_row = 0
        if self.grad_scaler is not None:
            self.grad_scaler.step(self.optimizer.optimizer)
            self._update_loss_scale(overflow=False)
        else:
            self.optimizer.step()
        self.num_updates += 1
        lr = self.lr_scheduler.step_update(self.num_updates)
        return {"logs": logs, "gnorm": gnorm, "lr": lr, "sample_size": sample_size}

    def _skip_update(self, logs: list[dict[str, Any]]) -> None:
        self.nonfinite_in_a_row += 1
        if self.grad_scaler is not None:
            self.grad_scaler.step(self.optimizer.optimizer)  # skipped: it saw the inf
            self._update_loss_scale(overflow=True)  # and lowers the loss scale
        self.optimizer.zero_grad()
        limit = self.cfg.optimization.max_nonfinite_updates
        if self.nonfinite_in_a_row >= limit:
            loss = sum(float(log.get("loss", 0.0)) for log in logs)
            raise TrainingError(
                f"gradients were not finite in {self.nonfinite_in_a_row} updates in a row "
                f"(at update {self.num_updates + 1}, loss {loss:.4g}); lower --lr, set "
                f"--clip-norm, or check the data (limit: --max-nonfinite-updates {limit})"
            )
        return None

    @property
    def save_dir(self) -> str:
        """The folder checkpoints are written to (``--save-dir``)."""
        return self.cfg.checkpoint.save_dir

    @property
    def is_master(self) -> bool:
        """Whether this process is rank 0, the one that writes checkpoints and logs (True
        without data parallelism)."""
        return self.dist.is_master

    @property
    def loss_scale(self) -> float | None:
        return float(self.grad_scaler.get_scale()) if self.grad_scaler is not None else None

    def get_lr(self) -> float:
        return self.optimizer.get_lr()

    # -- validation ----------------------------------------------------------------------------
    def valid_step(self, sample: dict[str, Any]) -> dict[str, Any] | None:
        if not sample:
            return None
        sample = self._to_device(sample)
        self.criterion.eval()
        with self.autocast():
            _, _, log = self.task.valid_step(sample, self.model, self.criterion)
        return log

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "criterion": self.criterion.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "grad_scaler": self.grad_scaler.state_dict() if self.grad_scaler else None,
            "num_updates": self.num_updates,
        }

    def load_model(self, state: dict[str, Any], source: str) -> None:
        missing, unexpected = self.model.load_state_dict(state["model"], strict=False)
        if missing or unexpected:
            raise SeqcoreError(
                f"{source} does not fit this model: missing {sorted(missing)[:5]}, unexpected "
                f"{sorted(unexpected)[:5]} (was it trained with other options?)"
            )

    def load_state_dict(
        self, state: dict[str, Any], source: str, *, reset_optimizer: bool, reset_lr_scheduler: bool
    ) -> None:
        """Take the model, and unless reset, the optimizer, scheduler and update count of a
        checkpoint, as fairseq does: the optimizer state applies only to the optimizer and
        criterion that made it (another one needs ``--reset-optimizer``), and a reset optimizer
        starts the count of updates, and so the learning-rate schedule, from 0."""
        saved = state.get("cfg", {}).get("selections", {})
        if not reset_optimizer:
            for role in ("optimizer", "criterion"):
                self._check_same(saved, role, source, "--reset-optimizer to start the optimizer")
        if not reset_optimizer and not reset_lr_scheduler:
            self._check_same(saved, "lr_scheduler", source, "--reset-lr-scheduler to start it")
        self.load_model(state, source)
        if state.get("criterion") and saved.get("criterion") == self.cfg.selections["criterion"]:
            self.criterion.load_state_dict(state["criterion"])
        self.num_updates = 0
        if not reset_optimizer:
            fresh_lr = self.optimizer.get_lr()
            if state.get("optimizer"):
                self.optimizer.load_state_dict(state["optimizer"])
            if reset_lr_scheduler:  # the saved parameter groups carry the old schedule's rate
                self.optimizer.set_lr(fresh_lr)
            if self.grad_scaler is not None and state.get("grad_scaler"):
                self.grad_scaler.load_state_dict(state["grad_scaler"])
            if not reset_lr_scheduler and state.get("lr_scheduler"):
                self.lr_scheduler.load_state_dict(state["lr_scheduler"])
            self.num_updates = int(state.get("num_updates", 0))
        self.lr_scheduler.step_update(self.num_updates)

    def _check_same(self, saved: dict[str, str], role: str, source: str, remedy: str) -> None:
        ours = self.cfg.selections[role]
        if saved.get(role, ours) != ours:
            flag = "--" + role.replace("_", "-")
            raise CheckpointError(
                f"{source} was trained with {flag} {saved[role]}, not {ours}: its state does not "
                f"apply here; add {remedy} afresh (the model weights are still loaded)"
            )
