"""``seqcore import-fairseq CHECKPOINT [--data DATA] -o OUT.pt``: a fairseq checkpoint as a
seqcore checkpoint (see :mod:`seqcore.interop.convert`)."""

from __future__ import annotations

import click

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.interop.config import ExportFairseqConfig, ImportFairseqConfig


def _import(cfg: ResolvedConfig) -> None:
    from seqcore.interop.convert import write_imported

    opts = cfg.import_fairseq
    click.echo(write_imported(opts.checkpoint, opts.output, opts.data))


def _export(cfg: ResolvedConfig) -> None:
    from seqcore.interop.convert import write_exported

    opts = cfg.export_fairseq
    click.echo(write_exported(opts.checkpoint, opts.output))


import_fairseq_command = ComponentCommand(
    "import-fairseq",
    _import,
    slots=(),
    base=[Component("import_fairseq", "import-fairseq", ImportFairseqConfig)],
    help="Convert a fairseq 0.10-0.12 checkpoint (transformer, transformer_lm, lstm, lstm_lm, or "
    "a model whose plug-in registers an importer) into a seqcore checkpoint. The fairseq pickle "
    "is read without running any code from it.",
    short_help="Convert a fairseq checkpoint into a seqcore one.",
)

export_fairseq_command = ComponentCommand(
    "export-fairseq",
    _export,
    slots=(),
    base=[Component("export_fairseq", "export-fairseq", ExportFairseqConfig)],
    help="Write the model of a seqcore checkpoint as a fairseq 0.12 checkpoint (fairseq's "
    "parameter names and a cfg fairseq reads), for fairseq-based tooling.",
    short_help="Convert a seqcore checkpoint into a fairseq one.",
)
