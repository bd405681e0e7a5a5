"""``seqcore config``: the configuration a selection of components resolves to, as TOML.

The output is a valid ``--config`` file: save it, edit it, and pass it to another command.
"""

from __future__ import annotations

import click

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.files import dump_config
from seqcore.config.resolve import ResolvedConfig


def _print_config(cfg: ResolvedConfig) -> None:
    click.echo(dump_config(cfg.flat_values()), nl=False)


config_command = ComponentCommand(
    "config",
    _print_config,
    help="Print the configuration that the selected components (--task, --arch, --criterion, "
    "--optimizer, --lr-scheduler) and the given flags and --config file resolve to, as a TOML "
    "file that --config reads back.",
    short_help="Print the resolved configuration as TOML.",
)
