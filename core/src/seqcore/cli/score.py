"""``seqcore score --sys FILE --ref FILE``: BLEU of a system output, as fairseq-score."""

from __future__ import annotations

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.evaluation.config import ScoreConfig


def _score(cfg: ResolvedConfig) -> None:
    from seqcore.evaluation.score import score

    score(cfg.score)


score_command = ComponentCommand(
    "score",
    _score,
    slots=(),
    base=[Component("score", "score", ScoreConfig)],
    help="BLEU of --sys against --ref (one sentence a line). Without --sacrebleu the files are "
    "taken as tokenized text and scored on their whitespace-separated tokens, as fairseq-score "
    "does (computed with sacrebleu, tokenize none, no smoothing); --sacrebleu applies "
    "sacrebleu's standard 13a tokenization to detokenized text.",
    short_help="Compute BLEU of a system output.",
)
