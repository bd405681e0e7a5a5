"""The trainer's own options (fairseq's common, dataset, optimization and checkpoint groups).

They are dataclasses like every component's config, so the flags of ``seqcore train`` are
derived from them and nothing is declared twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seqcore.config.fields import Component
from seqcore.errors import ConfigError


@dataclass
class CommonConfig:
    seed: int = field(default=1, metadata={"help": "random seed (data order, dropout, init)"})
    device: Literal["auto", "cpu", "cuda"] = field(
        default="auto", metadata={"help": "where to train: cuda when present with auto"}
    )
    fp16: bool = field(
        default=False, metadata={"help": "float16 autocast with dynamic loss scaling"}
    )
    bf16: bool = field(default=False, metadata={"help": "bfloat16 autocast (CPU or CUDA)"})
    amp: bool = field(
        default=False,
        metadata={
            "help": "autocast in the device's fast type: float16 (scaled) on CUDA, bfloat16 on CPU"
        },
    )
    fp16_init_scale: float = field(
        default=128.0, metadata={"help": "first loss scale of --fp16 (and of --amp on CUDA)"}
    )
    fp16_scale_window: int | None = field(
        default=None,
        metadata={
            "help": "updates without overflow before the loss scale doubles (default: 2^14 / "
            "processes / the first --update-freq)"
        },
    )
    min_loss_scale: float = field(
        default=1e-4,
        metadata={"help": "stop when an overflow would lower the loss scale to this or below"},
    )
    threshold_loss_scale: float | None = field(
        default=None, metadata={"help": "never raise the loss scale above this"}
    )
    compile: bool = field(default=False, metadata={"help": "torch.compile the model"})
    log_format: Literal["tqdm", "simple", "json", "none"] | None = field(
        default=None, metadata={"help": "progress output: tqdm on a terminal, else simple"}
    )
    log_interval: int = field(default=100, metadata={"help": "log every N updates"})
    log_file: str | None = field(
        default=None,
        metadata={
            "help": "also append every report to this file as a JSON record (whatever "
            "--log-format shows; seqcore plot reads it), and every message"
        },
    )
    tensorboard_logdir: str | None = field(
        default=None, metadata={"help": "write tensorboard logs to this folder"}
    )

    def __post_init__(self) -> None:
        if sum([self.fp16, self.bf16, self.amp]) > 1:
            raise ConfigError("--fp16, --bf16 and --amp exclude each other; choose one")
        if self.log_interval < 1:
            raise ConfigError(f"--log-interval {self.log_interval} must be at least 1")
        if self.fp16_init_scale <= 0:
            raise ConfigError(f"--fp16-init-scale {self.fp16_init_scale} must be positive")
        if self.fp16_scale_window is not None and self.fp16_scale_window < 1:
            raise ConfigError(f"--fp16-scale-window {self.fp16_scale_window} must be at least 1")
        if self.min_loss_scale < 0:
            raise ConfigError(f"--min-loss-scale {self.min_loss_scale} must not be negative")
        if (
            self.threshold_loss_scale is not None
            and self.threshold_loss_scale < self.min_loss_scale
        ):
            raise ConfigError(
                f"--threshold-loss-scale {self.threshold_loss_scale} must be at least "
                f"--min-loss-scale {self.min_loss_scale}"
            )


@dataclass
class DatasetConfig:
    max_tokens: int | None = field(
        default=None, metadata={"help": "maximum tokens in a batch (padding included)"}
    )
    batch_size: int | None = field(default=None, metadata={"help": "maximum sentences in a batch"})
    required_batch_size_multiple: int = field(
        default=8, metadata={"help": "batch sizes are rounded down to a multiple of this"}
    )
    num_workers: int = field(default=1, metadata={"help": "background data-loading processes"})
    train_subset: str = field(default="train", metadata={"help": "split to train on"})
    valid_subset: str = field(
        default="valid", metadata={"help": "splits to validate on (comma-separated)"}
    )
    max_tokens_valid: int | None = field(
        default=None, metadata={"help": "--max-tokens for validation (default: --max-tokens)"}
    )
    batch_size_valid: int | None = field(
        default=None, metadata={"help": "--batch-size for validation (default: --batch-size)"}
    )
    skip_invalid_size_inputs_valid_test: bool = field(
        default=False, metadata={"help": "skip examples too long for the model instead of failing"}
    )
    validate_interval: int = field(default=1, metadata={"help": "validate every N epochs"})
    validate_interval_updates: int = field(
        default=0, metadata={"help": "also validate every N updates (0: never)"}
    )
    disable_validation: bool = field(default=False, metadata={"help": "never validate"})
    max_valid_steps: int | None = field(
        default=None, metadata={"help": "validate on at most this many batches (per process)"}
    )

    def __post_init__(self) -> None:
        # that one of --max-tokens and --batch-size is needed, seqcore train says (after DATA)
        for flag, value in [("--max-tokens", self.max_tokens), ("--batch-size", self.batch_size)]:
            if value is not None and value < 1:
                raise ConfigError(f"{flag} {value} must be at least 1")
        if self.num_workers < 0:
            raise ConfigError(f"--num-workers {self.num_workers} must not be negative")
        if self.max_valid_steps is not None and self.max_valid_steps < 1:
            raise ConfigError(f"--max-valid-steps {self.max_valid_steps} must be at least 1")


@dataclass
class OptimizationConfig:
    max_epoch: int = field(
        default=0, metadata={"help": "stop after this many epochs (0: no limit)"}
    )
    max_update: int = field(
        default=0, metadata={"help": "stop after this many updates (0: no limit)"}
    )
    update_freq: list[int] = field(
        default_factory=lambda: [1],
        metadata={"help": "accumulate gradients over N batches per update (a list: one per epoch)"},
    )
    clip_norm: float = field(default=0.0, metadata={"help": "clip gradients to this norm (0: off)"})
    stop_min_lr: float = field(
        default=-1.0, metadata={"help": "stop when the learning rate falls to this value"}
    )
    stop_time_hours: float = field(
        default=0.0,
        metadata={"help": "stop after this many hours of training, resumed runs counted (0: off)"},
    )
    max_nonfinite_updates: int = field(
        default=10,
        metadata={"help": "abort after this many updates in a row with non-finite gradients"},
    )

    def __post_init__(self) -> None:
        if any(n < 1 for n in self.update_freq):
            raise ConfigError(f"--update-freq {self.update_freq} must be positive")
        if self.clip_norm < 0:
            raise ConfigError(f"--clip-norm {self.clip_norm} must not be negative")
        if self.stop_time_hours < 0:
            raise ConfigError(f"--stop-time-hours {self.stop_time_hours} must not be negative")


@dataclass
class CheckpointConfig:
    save_dir: str = field(default="checkpoints", metadata={"help": "where checkpoints go"})
    restore_file: str = field(
        default="checkpoint_last.pt",
        metadata={
            "help": "checkpoint to resume from: a path, or a file in --save-dir; "
            "checkpoint_last.pt when it exists, another file must exist"
        },
    )
    finetune_from_model: str | None = field(
        default=None,
        metadata={"help": "start from this model's weights, resetting everything else"},
    )
    reset_optimizer: bool = field(default=False, metadata={"help": "do not restore the optimizer"})
    reset_lr_scheduler: bool = field(
        default=False, metadata={"help": "do not restore the learning-rate scheduler"}
    )
    reset_dataloader: bool = field(
        default=False, metadata={"help": "do not restore the data position (start a new epoch)"}
    )
    reset_meters: bool = field(default=False, metadata={"help": "do not restore the meters"})
    save_interval: int = field(default=1, metadata={"help": "save a checkpoint every N epochs"})
    save_interval_updates: int = field(
        default=0, metadata={"help": "also save every N updates (0: never)"}
    )
    keep_interval_updates: int = field(
        default=-1, metadata={"help": "keep the last N update checkpoints (-1: all)"}
    )
    keep_last_epochs: int = field(
        default=-1, metadata={"help": "keep the last N epoch checkpoints (-1: all)"}
    )
    keep_best_checkpoints: int = field(
        default=-1, metadata={"help": "keep the N best checkpoints by the metric (-1: none)"}
    )
    no_save: bool = field(default=False, metadata={"help": "write no checkpoint at all"})
    no_last_checkpoints: bool = field(
        default=False, metadata={"help": "do not write checkpoint_last.pt"}
    )
    no_epoch_checkpoints: bool = field(
        default=False, metadata={"help": "only write checkpoint_last.pt and checkpoint_best.pt"}
    )
    best_checkpoint_metric: str = field(
        default="loss", metadata={"help": "validation metric that picks the best checkpoint"}
    )
    maximize_best_checkpoint_metric: bool = field(
        default=False, metadata={"help": "a larger metric is better"}
    )
    patience: int = field(
        default=-1, metadata={"help": "stop after N validations without improvement (-1: off)"}
    )

    def __post_init__(self) -> None:
        if self.finetune_from_model is None:
            return
        resets = [
            flag
            for flag, on in (
                ("--reset-optimizer", self.reset_optimizer),
                ("--reset-lr-scheduler", self.reset_lr_scheduler),
                ("--reset-dataloader", self.reset_dataloader),
                ("--reset-meters", self.reset_meters),
            )
            if on
        ]
        if resets:
            raise ConfigError(
                f"--finetune-from-model resets everything but the model weights already; "
                f"drop {', '.join(resets)}"
            )
        if self.restore_file != "checkpoint_last.pt":
            raise ConfigError(
                f"--finetune-from-model and --restore-file {self.restore_file} exclude each "
                f"other: the first starts from a model's weights, the second resumes a run"
            )


# The trainer's own option groups, as components of ``seqcore train`` (and ``seqcore config``,
# which writes what ``train`` resolves).
TRAINER_COMPONENTS = [
    Component("common", "train", CommonConfig),
    Component("dataset", "train", DatasetConfig),
    Component("optimization", "train", OptimizationConfig),
    Component("checkpoint", "train", CheckpointConfig),
]
