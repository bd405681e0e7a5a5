"""``seqcore preprocess``: text -> dictionaries and binarized datasets, as fairseq-preprocess.

Its options are :class:`~seqcore.data.preprocess.PreprocessOptions` (fairseq-preprocess's flags);
the pipeline is :func:`seqcore.data.preprocess.run_preprocess`.
"""

from __future__ import annotations

import click

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.data.preprocess import PreprocessOptions, run_preprocess


def _preprocess(cfg: ResolvedConfig) -> None:
    run_preprocess(cfg.preprocess, echo=click.echo)


preprocess = ComponentCommand(
    "preprocess",
    _preprocess,
    slots=(),
    base=[Component("preprocess", "preprocess", PreprocessOptions)],
    help="Build dictionaries and binarize text for training (fairseq-preprocess's flags).",
    short_help="Binarize text into a data-bin folder.",
)
