"""The ``seqcore`` command line (click)."""

from seqcore.cli.main import cli, main

__all__ = ["cli", "main"]
