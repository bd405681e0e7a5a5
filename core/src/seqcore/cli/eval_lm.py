"""``seqcore eval-lm DATA --path CKPT``: a language model's perplexity on a split, as
fairseq-eval-lm."""

from __future__ import annotations

from seqcore.cli.component_command import ComponentCommand
from seqcore.config.fields import Component
from seqcore.config.resolve import ResolvedConfig
from seqcore.evaluation.config import EvalLMConfig


def _eval_lm(cfg: ResolvedConfig) -> None:
    from seqcore.evaluation.eval_lm import eval_lm

    eval_lm(cfg)


eval_lm_command = ComponentCommand(
    "eval-lm",
    _eval_lm,
    slots=(),
    base=[Component("eval_lm", "eval-lm", EvalLMConfig)],
    help="Evaluate the language model(s) of --path on the --gen-subset split of DATA: loss "
    "(base 2) and perplexity, optionally each word's log-probability.",
    short_help="Evaluate a language model.",
)
