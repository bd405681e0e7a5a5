"""``seqcore train DATA ...``: train a model, fairseq-train's flags and meanings.

Its options are the trainer's own dataclasses plus those of the selected task, architecture,
criterion, optimizer and learning-rate scheduler.
"""

from __future__ import annotations

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.resolve import ResolvedConfig
from seqcore.errors import ConfigError
from seqcore.training.config import TRAINER_COMPONENTS


def _train(cfg: ResolvedConfig) -> None:
    from seqcore.training.loop import train  # as every command: its library loads when it runs

    # what a run cannot do without, in the order of the command line
    if getattr(cfg.configs.get("task"), "data", None) == "":
        raise ConfigError(
            "give DATA, the data-bin folder to train on: seqcore train DATA -a ARCH "
            "--optimizer NAME --max-tokens N ... (see 'seqcore train --help')"
        )
    for key, flag in [("arch", "--arch"), ("optimizer", "--optimizer")]:
        if key not in cfg.selections:
            raise ConfigError(f"{flag} is required (see 'seqcore train --help')")
    if cfg.dataset.max_tokens is None and cfg.dataset.batch_size is None:
        raise ConfigError("give --max-tokens or --batch-size (or both)")
    train(cfg)


train_command = ComponentCommand(
    "train",
    _train,
    base=TRAINER_COMPONENTS,
    help="Train a model on a data-bin folder (DATA; colon-separated folders are used one per "
    "epoch). Resumes from checkpoint_last.pt in --save-dir when it exists.",
    short_help="Train a model.",
)
