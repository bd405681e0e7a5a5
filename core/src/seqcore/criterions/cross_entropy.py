"""``cross_entropy``: the negative log-likelihood of the targets, summed over non-pad tokens.

fairseq's ``cross_entropy`` criterion: the loss is ``-log p(target)`` summed over every target
token that is not padding; the gradient is divided by ``sample_size`` (target tokens, or sentences
with ``--sentence-avg``). Reported figures are in base 2 so that ``ppl = 2 ** nll_loss``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.criterions.base import Criterion
from seqcore.criterions.logits_loss import summed_cross_entropy
from seqcore.criterions.registry import register_criterion


@dataclass
class CrossEntropyConfig:
    sentence_avg: bool = field(
        default=False,
        metadata={"help": "normalize gradients by the number of sentences, not of tokens"},
    )


def base2(total: float, count: float) -> float:
    """``total / count`` converted from nats to bits (0 when nothing was counted)."""
    return total / count / math.log(2) if count else 0.0


def perplexity(nll_base2: float) -> float:
    """``2 ** nll_base2``, infinite where that overflows a float (as fairseq reports it)."""
    try:
        return 2.0**nll_base2
    except OverflowError:
        return math.inf


def summed(logging_outputs: list[dict[str, Any]], key: str) -> float:
    return float(sum(log.get(key, 0) for log in logging_outputs))


@register_criterion("cross_entropy", dataclass=CrossEntropyConfig)
class CrossEntropyCriterion(Criterion):
    """Token-level cross entropy against ``sample["target"]``, padding ignored."""

    def forward(
        self, model: nn.Module, sample: dict[str, Any], reduce: bool = True
    ) -> tuple[torch.Tensor, int | float, dict[str, Any]]:
        net_output = model(**sample["net_input"])
        loss = self.compute_loss(model, net_output, sample, reduce=reduce)
        nsentences = sample["target"].size(0)
        sample_size = nsentences if self.cfg.sentence_avg else sample["ntokens"]
        logging_output = {
            "loss": float(loss.detach().sum()),
            "ntokens": sample["ntokens"],
            "nsentences": nsentences,
            "sample_size": sample_size,
        }
        return loss, sample_size, logging_output

    def compute_loss(
        self, model: nn.Module, net_output: Any, sample: dict[str, Any], reduce: bool = True
    ) -> torch.Tensor:
        """The summed loss (``reduce``) or one loss per target position (0 on padding)."""
        logits = model.get_logits(net_output) if reduce else None
        if logits is not None:  # the loss and its gradient straight from the scores
            target = model.get_targets(sample, net_output).reshape(-1)
            scores = logits.reshape(-1, logits.size(-1))
            return summed_cross_entropy(scores, target, 0.0, self.padding_idx)[0]
        lprobs = model.get_normalized_probs(net_output, log_probs=True)
        lprobs = lprobs.view(-1, lprobs.size(-1))
        target = model.get_targets(sample, net_output).reshape(-1)
        return F.nll_loss(
            lprobs,
            target,
            ignore_index=self.padding_idx,
            reduction="sum" if reduce else "none",
        )

    @classmethod
    def reduce_metrics(cls, logging_outputs: list[dict[str, Any]]) -> dict[str, float]:
        """``loss`` per ``sample_size`` and ``nll_loss`` per token, in base 2; ``ppl``."""
        loss_sum = summed(logging_outputs, "loss")
        ntokens = summed(logging_outputs, "ntokens")
        sample_size = summed(logging_outputs, "sample_size")
        nll_loss = base2(loss_sum, ntokens)
        return {
            "loss": base2(loss_sum, sample_size),
            "nll_loss": nll_loss,
            "ppl": perplexity(nll_loss),
            "ntokens": ntokens,
            "nsentences": summed(logging_outputs, "nsentences"),
            "sample_size": sample_size,
        }
