"""``seqcore generate DATA --path CKPT``: translate a split, fairseq-generate's flags and output.

Its options are the search options (:class:`~seqcore.generation.GenerationConfig`) and
:class:`~seqcore.evaluation.config.GenerateConfig`.
"""

from __future__ import annotations

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.evaluation.config import GenerateConfig
from seqcore.generation.config import GenerationConfig


def _generate(cfg: ResolvedConfig) -> None:
    from seqcore.evaluation.generate import generate

    generate(cfg)


generate_command = ComponentCommand(
    "generate",
    _generate,
    slots=(),
    base=[
        Component("generation", "generate", GenerationConfig),
        Component("generate", "generate", GenerateConfig),
    ],
    help="Translate the --gen-subset split of DATA with the model(s) of --path and print "
    "fairseq's S-/T-/H-/D-/P- lines, the speed and BLEU (sacrebleu).",
    short_help="Translate a binarized split and score it.",
)
