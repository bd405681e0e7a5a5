"""``seqcore config``: the configuration ``seqcore train`` resolves the same flags to, as TOML.

It takes every flag ``train`` takes (the trainer's own options and those of the selected
components) and resolves and checks them as ``train`` does, without training; what ``train``
needs before it starts (DATA, ``--arch``, ``--optimizer``, ``--max-tokens`` or
``--batch-size``) may still be missing, so that the output can serve as a template. The output
is a valid ``--config`` file: ``seqcore train --config FILE`` resolves it to the same values.
"""

from __future__ import annotations

import click

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.files import dump_config
from seqcore.config.resolve import ResolvedConfig
from seqcore.training.config import TRAINER_COMPONENTS


def _print_config(cfg: ResolvedConfig) -> None:
    click.echo(dump_config(cfg.flat_values()), nl=False)


config_command = ComponentCommand(
    "config",
    _print_config,
    base=TRAINER_COMPONENTS,
    help="Print the configuration that 'seqcore train' resolves the same flags to (the selected "
    "components, --task, --arch, --criterion, --optimizer, --lr-scheduler, the training "
    "options and a --config file), as a TOML file that --config reads back.",
    short_help="Print the resolved configuration as TOML.",
)
