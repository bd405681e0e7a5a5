"""The training run: epochs of updates, validation, checkpoints, logging and hooks.

It follows fairseq's training flow::

    itr = task.get_batch_iterator(task.dataset("train"), ...)
    for samples in grouped(itr.next_epoch_itr(), update_freq):
        trainer.train_step(samples)     # task.train_step -> optimizer.backward -> step
        lr_scheduler.step_update(n)
    lr_scheduler.step(epoch, val_loss)
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqcore.checkpoint_utils import (
    CheckpointManager,
    check_weights_fit,
    load_checkpoint_file,
    provenance,
)
from seqcore.errors import CheckpointError, ConfigError, DataError
from seqcore.loader import plugin_manager
from seqcore.tasks.registry import setup_task
from seqcore.training import distributed, schedule
from seqcore.training.batches import grouped, min_positions
from seqcore.training.meters import IntervalMeter
from seqcore.training.progress import Progress
from seqcore.training.rng import rng_state, set_rng_state
from seqcore.training.tensorboard import TensorboardLog
from seqcore.training.trainer import Trainer
from seqcore.training.validation import validate_split

log = logging.getLogger("seqcore.train")


def pick_device(choice: str, dist_ctx: distributed.DistributedContext) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda: no CUDA device is available")
        torch.cuda.set_device(dist_ctx.local_rank)
        return torch.device("cuda", dist_ctx.local_rank)
    return torch.device("cpu")


class TrainingRun:
    """Everything a ``seqcore train`` invocation does, step by step."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.hooks = plugin_manager().hook
        self.dist = distributed.init_from_environment(
            "cuda" if cfg.common.device != "cpu" and torch.cuda.is_available() else "cpu"
        )
        self.device = pick_device(cfg.common.device, self.dist)
        if not self.dist.is_master:  # as fairseq: other ranks say only what goes wrong
            logging.getLogger("seqcore").setLevel(logging.WARNING)
        self.checkpoints = CheckpointManager(cfg.checkpoint, self.dist.is_master)
        logdir = cfg.common.tensorboard_logdir if self.dist.is_master else None
        self.tensorboard = TensorboardLog(logdir)
        # last: from here on train() closes its --log-file whatever happens
        self.progress = Progress(
            cfg.common.log_format, quiet=not self.dist.is_master, log_file=cfg.common.log_file
        )
        self.epoch_itr = None
        self.patience_left = cfg.checkpoint.patience
        self.start_time = time.perf_counter()
        self.stop_reason = ""
        self.restored_from: Path | None = None

    # -- setup ---------------------------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.cfg
        self.checkpoints.prepare()
        torch.manual_seed(cfg.common.seed)
        np.random.seed(cfg.common.seed)
        random.seed(cfg.common.seed)
        self.task = setup_task(cfg.task)
        if not cfg.dataset.disable_validation:
            for split in cfg.dataset.valid_subset.split(","):
                self.task.load_dataset(split)
        model = self.task.build_model(cfg.model)
        criterion = self.task.build_criterion(cfg.criterion)
        self.trainer = Trainer(cfg, self.task, model, criterion, self.device, self.dist)
        n = sum(p.numel() for p in model.parameters())
        trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
        self.progress.message(
            f"model {cfg.selections['arch']} ({type(model).__name__}): {n:,} parameters "
            f"({trained:,} trained); criterion {cfg.selections['criterion']}; optimizer "
            f"{cfg.selections['optimizer']}; lr scheduler {cfg.selections['lr_scheduler']}; "
            f"device {self.device}; {self.dist.world_size} process(es)"
        )
        self.extra_state = self._restore()
        epoch = int(self.extra_state.get("epoch", 1))
        self.epoch_itr = self._train_iterator(epoch)
        self._check_progress_possible()
        if "train_iterator" in self.extra_state:
            try:
                self.epoch_itr.load_state_dict(self.extra_state["train_iterator"])
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise CheckpointError(
                    f"{self.restored_from}: its data position does not fit this run "
                    f"({type(e).__name__}); add --reset-dataloader to start the data afresh"
                ) from None
        self.trainer.epoch = self.epoch_itr.next_epoch_idx  # the one the run goes on with

    def _restore(self) -> dict[str, Any]:
        ck = self.cfg.checkpoint
        path = self.checkpoints.restore_path()
        if path is None and ck.finetune_from_model:
            if not Path(ck.finetune_from_model).is_file():
                raise CheckpointError(
                    f"--finetune-from-model {ck.finetune_from_model}: no such file"
                )
            state = load_checkpoint_file(ck.finetune_from_model)
            check_weights_fit(self.trainer.model, state["model"], ck.finetune_from_model)
            self.trainer.load_model(state, ck.finetune_from_model)
            self.progress.message(f"fine-tuning from {ck.finetune_from_model}")
            return {}
        if path is None:
            return {}
        state = load_checkpoint_file(path, remedy=RESTORE_ANOTHER)
        self.restored_from = path
        check_weights_fit(self.trainer.model, state["model"], path)
        try:
            self.trainer.load_state_dict(
                state,
                str(path),
                reset_optimizer=ck.reset_optimizer,
                reset_lr_scheduler=ck.reset_lr_scheduler,
            )
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as e:
            # the weights fit (checked above): what does not is the training state beside them
            raise CheckpointError(
                f"{path}: its optimizer or schedule state does not fit this run "
                f"({type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}); "
                "add --reset-optimizer to start them afresh"
            ) from None
        extra = dict(state.get("extra_state", {}))
        if not (ck.reset_optimizer or ck.reset_meters):  # fairseq's rule for the best score
            self.checkpoints.best = extra.get("best")
            self.patience_left = extra.get("patience_left", self.patience_left)
        if not ck.reset_meters:  # the wall clock goes on from where the run stopped
            self.start_time = time.perf_counter() - float(extra.get("wall", 0.0))
        if ck.reset_dataloader:
            extra.pop("train_iterator", None)
            extra.pop("epoch", None)
        elif "rng" in extra:
            set_rng_state(extra["rng"])
        self.progress.message(
            f"resumed from {path} (epoch {extra.get('epoch', 1)}, update "
            f"{self.trainer.num_updates}{_resets_note(ck)})"
        )
        return extra

    def _check_progress_possible(self) -> None:
        """A training split without a single batch would loop over empty epochs for ever
        (saving a checkpoint after each): stop at once, saying why."""
        if len(self.epoch_itr) > 0:
            return
        cfg = self.cfg
        split = cfg.dataset.train_subset
        data = getattr(cfg.task, "data", "the data folder")
        dataset = self.task.dataset(split)
        if len(dataset) == 0:
            raise DataError(
                f"--train-subset {split} of {data} is empty (0 examples): nothing to train on; "
                "preprocess a --trainpref with sentences in it"
            )
        max_positions = min_positions(self.task.max_positions(), self.trainer.model.max_positions())
        raise DataError(
            f"--train-subset {split} of {data}: none of its {len(dataset)} examples is left "
            f"after filtering by the max positions {max_positions} (--max-source-positions/"
            "--max-target-positions, --tokens-per-sample); nothing to train on"
        )

    def _train_iterator(self, epoch: int) -> Any:
        cfg = self.cfg
        self.task.load_dataset(cfg.dataset.train_subset, epoch=epoch)
        return self.task.get_batch_iterator(
            self.task.dataset(cfg.dataset.train_subset),
            max_tokens=cfg.dataset.max_tokens,
            max_sentences=cfg.dataset.batch_size,
            max_positions=min_positions(
                self.task.max_positions(), self.trainer.model.max_positions()
            ),
            ignore_invalid_inputs=False,
            required_batch_size_multiple=cfg.dataset.required_batch_size_multiple,
            seed=cfg.common.seed,
            num_shards=self.dist.world_size,
            shard_id=self.dist.rank,
            num_workers=cfg.dataset.num_workers,
            epoch=epoch,
        )

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.setup()
        self.hooks.seqcore_train_begin(trainer=self.trainer)
        valid_metrics: dict[str, Any] = {}
        while self._should_continue():
            stop, valid_metrics = self.train_epoch()
            if stop:
                break
        self.progress.close_bar()
        self.hooks.seqcore_train_end(trainer=self.trainer)
        self.tensorboard.close()
        wall = time.perf_counter() - self.start_time
        self.progress.message(
            f"done training in {wall:.1f} s ({self.stop_reason}); "
            f"{self.trainer.num_updates} updates"
            + (
                f"; checkpoints in {self.checkpoints.save_dir}"
                if not self.cfg.checkpoint.no_save
                else ""
            )
        )
        return {
            "num_updates": self.trainer.num_updates,
            "valid": valid_metrics,
            "best": self.checkpoints.best,
        }

    def _should_continue(self) -> bool:
        reason = schedule.epoch_limit(
            self.cfg, self.epoch_itr.next_epoch_idx, self.trainer.num_updates
        )
        if reason:
            self.stop_reason = reason
        return reason is None

    def train_epoch(self) -> tuple[bool, dict[str, Any]]:
        cfg = self.cfg
        itr = self.epoch_itr.next_epoch_itr(shuffle=True)
        epoch = self.trainer.epoch = self.epoch_itr.epoch
        self.trainer.lr_scheduler.step_begin_epoch(epoch)
        self.hooks.seqcore_epoch_begin(trainer=self.trainer, epoch=epoch)
        freqs = cfg.optimization.update_freq
        update_freq = freqs[min(epoch, len(freqs)) - 1]
        interval, whole = IntervalMeter(), IntervalMeter()
        bar = self.progress.bar(itr, epoch, total=len(itr), initial=itr.n)
        stopping = out_of_patience = False
        for samples in grouped(iter(bar), update_freq):
            result = self.trainer.train_step(samples)
            if result is None:
                continue
            n = self.trainer.num_updates
            interval.add(result["logs"], result["gnorm"])
            whole.add(result["logs"], result["gnorm"])
            single = IntervalMeter()
            single.add(result["logs"], result["gnorm"])
            update_log = self._metrics(single)
            self.hooks.seqcore_update_end(trainer=self.trainer, num_updates=n, log=update_log)
            if n % cfg.common.log_interval == 0:
                metrics = self._metrics(interval)
                self.progress.report("train_inner", epoch, n, metrics)
                self.tensorboard.write("train_inner", metrics, n)
                interval.reset()
            stopping = self._stop_for_updates()
            if stopping or self.epoch_itr.end_of_epoch():
                break
            valid_metrics, out_of_patience = self._validate_and_save(epoch, False, False)
            if out_of_patience:
                break
        self.progress.close_bar()
        metrics = self._metrics(whole)
        self.progress.report("train", epoch, self.trainer.num_updates, metrics)
        self.tensorboard.write("train", metrics, self.trainer.num_updates)
        if out_of_patience:
            return True, valid_metrics
        end = self.epoch_itr.end_of_epoch()
        valid_metrics, stop = self._validate_and_save(epoch, end, stopping)
        if not stop:
            self._next_data_shard()
        return stop, valid_metrics

    def _validate_and_save(
        self, epoch: int, end_of_epoch: bool, stopping: bool
    ) -> tuple[dict[str, Any], bool]:
        """After an update, validate and save as :func:`schedule.due_after_update` says.
        Returns the validation metrics and whether to stop (``stopping``, --patience ran out,
        or --stop-min-lr reached).

        At the end of an epoch the learning rate takes its per-epoch step (with the validation
        metric) before the checkpoint is written: a run resumed from it goes on from there."""
        cfg = self.cfg
        due = schedule.due_after_update(
            cfg, epoch, self.trainer.num_updates, end_of_epoch, stopping
        )
        valid_metrics = self.validate(epoch) if due.validate else {}
        min_lr_reached = False
        if end_of_epoch and not stopping:
            metric = valid_metrics.get(cfg.checkpoint.best_checkpoint_metric)
            reason = schedule.lr_limit(cfg, self.trainer.lr_scheduler.step(epoch, metric))
            if reason:
                self.stop_reason, min_lr_reached = reason, True
        out_of_patience = self._out_of_patience(valid_metrics)
        if due.save or out_of_patience:
            self.save(epoch, end_of_epoch=end_of_epoch, valid_metrics=valid_metrics)
        return valid_metrics, stopping or out_of_patience or min_lr_reached

    def _next_data_shard(self) -> None:
        """Colon-separated data folders: each epoch reads the next one."""
        data = getattr(self.cfg.task, "data", "")
        if isinstance(data, str) and ":" in data:
            state = self.epoch_itr.state_dict()
            self.epoch_itr = self._train_iterator(self.epoch_itr.next_epoch_idx)
            self._check_progress_possible()
            self.epoch_itr.load_state_dict(state)

    def _stop_for_updates(self) -> bool:
        reason = (
            schedule.update_limit(self.cfg, self.trainer.num_updates)
            or schedule.lr_limit(self.cfg, self.trainer.get_lr())
            or schedule.time_limit(self.cfg, time.perf_counter() - self.start_time)
        )
        if reason:
            self.stop_reason = reason
        return reason is not None

    def _out_of_patience(self, valid_metrics: dict[str, Any]) -> bool:
        patience = self.cfg.checkpoint.patience
        metric = valid_metrics.get(self.cfg.checkpoint.best_checkpoint_metric)
        if patience <= 0 or metric is None:
            return False
        if valid_metrics.get("_improved"):
            self.patience_left = patience
            return False
        self.patience_left -= 1
        if self.patience_left <= 0:
            self.stop_reason = f"no improvement in {patience} validations (--patience)"
            return True
        return False

    def _metrics(self, meter: Any) -> dict[str, Any]:
        metrics = meter.summary(
            self._reduce_metrics, self.trainer.get_lr(), self.trainer.loss_scale
        )
        metrics["wall"] = time.perf_counter() - self.start_time
        return metrics

    def _reduce_metrics(self, logs: list[dict[str, Any]]) -> dict[str, Any]:
        """The figures of logging outputs: the task's (which asks its criterion, then may add
        its own, as --eval-bleu's bleu)."""
        return dict(self.task.reduce_metrics(logs, self.trainer.criterion))

    # -- validation and checkpoints ------------------------------------------------------------
    def validate(self, epoch: int) -> dict[str, Any]:
        cfg = self.cfg
        if cfg.dataset.disable_validation:
            return {}
        first: dict[str, Any] = {}
        for split in cfg.dataset.valid_subset.split(","):
            metrics = validate_split(cfg, self.task, self.trainer, self.dist, split)
            key = cfg.checkpoint.best_checkpoint_metric
            if metrics and key not in metrics:
                raise ConfigError(
                    f"--best-checkpoint-metric {key}: the validation reports no such metric "
                    f"(it reports {', '.join(sorted(metrics))})"
                    + ("; add --eval-bleu to compute BLEU" if key == "bleu" else "")
                )
            if key in metrics:
                best = self.checkpoints.best
                improved = self.checkpoints.is_better(metrics[key], best)
                shown_best = metrics[key] if improved else best
                metrics[f"best_{key}"] = shown_best
            if not first:
                first = dict(metrics)
                if key in metrics:
                    first["_improved"] = improved
            self.progress.report(
                "valid",
                epoch,
                self.trainer.num_updates,
                {("valid_" + k if split != "valid" else k): v for k, v in metrics.items()},
            )
            self.tensorboard.write(split, metrics, self.trainer.num_updates)
        self.hooks.seqcore_validation_end(
            trainer=self.trainer,
            epoch=epoch,
            num_updates=self.trainer.num_updates,
            metrics={k: v for k, v in first.items() if not k.startswith("_")},
        )
        return first

    def checkpoint_state(self, epoch: int) -> dict[str, Any]:
        state = self.trainer.state_dict()
        state.update(provenance(self.cfg, self.task))
        state["extra_state"] = {
            "epoch": epoch,
            "train_iterator": self.epoch_itr.state_dict(),
            "rng": rng_state(),
            "patience_left": self.patience_left,
            "wall": time.perf_counter() - self.start_time,
        }
        return state

    def save(self, epoch: int, end_of_epoch: bool, valid_metrics: dict[str, Any]) -> None:
        metric = valid_metrics.get(self.cfg.checkpoint.best_checkpoint_metric)
        state = self.checkpoint_state(epoch) if self.dist.is_master else {}
        paths = self.checkpoints.save(state, epoch, self.trainer.num_updates, end_of_epoch, metric)
        for path in paths:
            self.hooks.seqcore_checkpoint_saved(trainer=self.trainer, path=str(path))
        if paths:
            self.progress.message(
                f"saved checkpoint {paths[0]} (epoch {epoch}, update {self.trainer.num_updates})"
            )


RESTORE_ANOTHER = "use --restore-file to resume from another checkpoint"


def _resets_note(ck: Any) -> str:
    """What a resumed run starts afresh, for its first message ("" when nothing)."""
    resets = [
        what
        for what, on in (
            ("optimizer", ck.reset_optimizer),
            ("lr scheduler", ck.reset_lr_scheduler or ck.reset_optimizer),
            ("data position", ck.reset_dataloader),
            ("meters", ck.reset_meters),
        )
        if on
    ]
    return f"; reset: {', '.join(resets)}" if resets else ""


def train(cfg: Any) -> dict[str, Any]:
    """Run training as configured; returns the final figures."""
    run = None
    try:
        run = TrainingRun(cfg)
        result = run.run()
        distributed.wait_for_all(run.dist)
        return result
    except RuntimeError as e:  # torch.distributed's errors, DistBackendError included
        lost = distributed.peer_lost(run.dist, e) if run is not None else None
        if lost is not None:
            raise lost from None
        raise
    finally:
        if run is not None:
            run.progress.close()
        distributed.shutdown()
