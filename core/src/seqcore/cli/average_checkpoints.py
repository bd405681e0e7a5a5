"""``seqcore average-checkpoints --inputs ... --output FILE``: fairseq's
``scripts/average_checkpoints.py`` as a command.

``--inputs`` takes several paths as fairseq's does (``--inputs a.pt b.pt c.pt``): the words
after it, up to the next option, are joined into the one comma-separated value the derived
option reads (``--inputs a.pt,b.pt,c.pt`` works as well).
"""

from __future__ import annotations

from typing import Any

import click

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.evaluation.config import AverageCheckpointsConfig


def join_inputs(args: list[str]) -> list[str]:
    """``--inputs a b c --output x`` -> ``--inputs a,b,c --output x``."""
    joined: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        joined.append(arg)
        i += 1
        if arg == "--inputs":
            values = []
            while i < len(args) and not args[i].startswith("-"):
                values.append(args[i])
                i += 1
            if values:
                joined.append(",".join(values))
    return joined


class _AverageCommand(ComponentCommand):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, join_inputs(args))


def _average(cfg: ResolvedConfig) -> Any:
    from seqcore.evaluation.average import run_average_checkpoints

    run_average_checkpoints(cfg.average_checkpoints, echo=click.echo)


average_checkpoints_command = _AverageCommand(
    "average-checkpoints",
    _average,
    slots=(),
    base=[Component("average_checkpoints", "average-checkpoints", AverageCheckpointsConfig)],
    help="Average the model weights of several checkpoints (--inputs, or the last N epoch or "
    "update checkpoints of the --inputs folder) into --output; the rest (configuration, "
    "optimizer state, ...) is the newest input's.",
    short_help="Average the weights of checkpoints.",
)
