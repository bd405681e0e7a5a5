"""The options of ``seqcore import-fairseq`` and ``seqcore export-fairseq`` (their flags are
derived from these dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportFairseqConfig:
    checkpoint: str = field(
        metadata={"help": "the fairseq checkpoint to convert", "positional": True}
    )
    output: str = field(metadata={"help": "the seqcore checkpoint to write", "short": "-o"})
    data: str | None = field(
        default=None,
        metadata={
            "help": "the data folder whose dictionaries the model was trained with (default: "
            "the one fairseq saved)"
        },
    )


@dataclass
class ExportFairseqConfig:
    checkpoint: str = field(
        metadata={"help": "the seqcore checkpoint to convert", "positional": True}
    )
    output: str = field(metadata={"help": "the fairseq checkpoint to write", "short": "-o"})
