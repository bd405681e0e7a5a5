"""Hook specifications: the moments at which plug-ins may act.

A plug-in implements any of these as a function of the same name decorated with
``@seqcore.hookimpl`` in the module its entry point (or ``--user-dir``) names. Every argument is
optional in the implementation: pluggy passes only those the function asks for. Each docstring
says when the hook is called and how often; ``docs/hooks.md`` says the same for users.

The training hooks receive ``trainer``, the run's :class:`seqcore.training.Trainer`. A hook may
read (and should not replace) these attributes of it:

- ``trainer.cfg``: the run's resolved configuration (``cfg.model``, ``cfg.checkpoint``, ...)
- ``trainer.task``, ``trainer.model``, ``trainer.criterion``: the components being trained
- ``trainer.optimizer``, ``trainer.lr_scheduler``: the optimizer wrapper and the schedule
  (``trainer.optimizer.get_lr()`` is the rate in force)
- ``trainer.epoch``: the epoch being trained (from 1); ``trainer.num_updates``: updates so far
- ``trainer.save_dir``: where checkpoints are written; ``trainer.device``: a ``torch.device``
- ``trainer.is_master``: whether this process is rank 0 (the one that writes checkpoints)

``Trainer`` is imported for type checkers only, so that loading the hook specifications (which
``seqcore --help`` does) does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seqcore.markers import hookspec

if TYPE_CHECKING:
    import click

    from seqcore.training import Trainer


@hookspec
def seqcore_add_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``seqcore`` command line with ``cli.add_command(...)``.

    Called once per process, the first time the command line looks for a command that is not one
    of the core's (``seqcore NAME`` with an unknown NAME) or lists every command
    (``seqcore plugins``). ``seqcore --help`` does not call it, so that help stays fast and
    imports no plug-in. A command whose name is already taken is an error naming both plug-ins.
    """


@hookspec
def seqcore_train_begin(trainer: Trainer) -> None:
    """Called once per training run, on every rank, after the model, criterion, optimizer and
    scheduler are built and any checkpoint is restored, just before the first epoch starts."""


@hookspec
def seqcore_epoch_begin(trainer: Trainer, epoch: int) -> None:
    """Called once at the start of every epoch (1-based ``epoch``), on every rank, before its
    first batch; also for the epoch a resumed run continues in the middle of."""


@hookspec
def seqcore_update_end(trainer: Trainer, num_updates: int, log: dict[str, float]) -> None:
    """Called after every optimizer update, on every rank, with the total number of updates so
    far and the metrics of that update (``loss``, ``nll_loss``, ``lr``, ``gnorm``, ...). An update
    skipped for non-finite gradients does not count and does not call it."""


@hookspec
def seqcore_validation_end(
    trainer: Trainer, epoch: int, num_updates: int, metrics: dict[str, float]
) -> None:
    """Called after each validation pass, on every rank, with the validation metrics: at the end
    of every ``--validate-interval`` epochs, every ``--validate-interval-updates`` updates, before
    every mid-epoch save (``--save-interval-updates``) and when training stops; once where these
    coincide."""


@hookspec
def seqcore_checkpoint_saved(trainer: Trainer, path: str) -> None:
    """Called on rank 0 only, once for every checkpoint file written (``checkpoint_last.pt``,
    ``checkpoint_best.pt``, ``checkpointN.pt``, ...), after the file is complete and in place."""


@hookspec
def seqcore_train_end(trainer: Trainer) -> None:
    """Called once per training run, on every rank, when training stops normally (``--max-epoch``
    or ``--max-update`` reached, learning rate too small, ``--patience`` exhausted or
    ``--stop-time-hours`` passed)."""
