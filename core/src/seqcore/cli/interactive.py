"""``seqcore interactive DATA --path CKPT``: translate raw sentences as they are typed,
fairseq-interactive's flags and output."""

from __future__ import annotations

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.evaluation.config import InteractiveConfig
from seqcore.generation.config import GenerationConfig


def _interactive(cfg: ResolvedConfig) -> None:
    from seqcore.evaluation.interactive import interactive

    interactive(cfg)


interactive_command = ComponentCommand(
    "interactive",
    _interactive,
    slots=(),
    base=[
        Component("generation", "interactive", GenerationConfig),
        Component("interactive", "interactive", InteractiveConfig),
    ],
    help="Translate sentences read from stdin (or --input FILE), segmented with DATA's "
    "sentencepiece model when it has one, and print fairseq's S-/W-/H-/D-/P- lines as they "
    "come. An empty line is answered with an empty line.",
    short_help="Translate raw text from stdin.",
)
