"""``label_smoothed_cross_entropy``: cross entropy against a target smoothed with epsilon.

fairseq's criterion of the same name. With epsilon ``e`` over a vocabulary of ``V`` symbols,
``nll = -log p(target)`` and ``smooth = -sum_v log p(v)`` (both 0 on padding),
``eps_i = e / (V - 1)`` and ``loss = (1 - e - eps_i) * nll + eps_i * smooth``, summed over tokens.
The true-class weight ``1 - e - eps_i`` plus the ``eps_i`` every class gets makes the target
``1 - e`` and each other class ``e / (V - 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from seqcore.criterions.base import Criterion
from seqcore.criterions.cross_entropy import base2, perplexity, summed
from seqcore.criterions.logits_loss import summed_cross_entropy, summed_terms
from seqcore.criterions.registry import register_criterion
from seqcore.errors import ConfigError


@dataclass
class LabelSmoothedCrossEntropyConfig:
    label_smoothing: float = field(
        default=0.0, metadata={"help": "epsilon for label smoothing, 0 means no label smoothing"}
    )
    ignore_prefix_size: int = field(
        default=0, metadata={"help": "ignore the first N tokens of every target"}
    )
    report_accuracy: bool = field(
        default=False, metadata={"help": "report the accuracy of the argmax prediction"}
    )
    sentence_avg: bool = field(
        default=False,
        metadata={"help": "normalize gradients by the number of sentences, not of tokens"},
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"--label-smoothing {self.label_smoothing} must be in [0, 1)")
        if self.ignore_prefix_size < 0:
            raise ConfigError(f"--ignore-prefix-size {self.ignore_prefix_size} must be >= 0")


def label_smoothed_nll_loss(
    lprobs: torch.Tensor,
    target: torch.Tensor,
    epsilon: float,
    ignore_index: int | None = None,
    reduce: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, nll_loss)`` for log-probabilities ``lprobs`` (N x V) and ``target`` (N).

    Positions whose target is ``ignore_index`` contribute nothing. Without ``reduce`` both are
    per-position vectors. The summed form has a backward pass of its own
    (:class:`_SummedLabelSmoothedNLL`).
    """
    eps_i = epsilon / (lprobs.size(-1) - 1)
    if reduce:
        return _SummedLabelSmoothedNLL.apply(
            lprobs, target, 1.0 - epsilon - eps_i, eps_i, ignore_index
        )
    target = target.unsqueeze(-1)
    nll_loss = -lprobs.gather(dim=-1, index=target).squeeze(-1)
    smooth_loss = -lprobs.sum(dim=-1)
    if ignore_index is not None:
        pad_mask = target.squeeze(-1).eq(ignore_index)
        nll_loss = nll_loss.masked_fill(pad_mask, 0.0)
        smooth_loss = smooth_loss.masked_fill(pad_mask, 0.0)
    loss = (1.0 - epsilon - eps_i) * nll_loss + eps_i * smooth_loss
    return loss, nll_loss


class _SummedLabelSmoothedNLL(torch.autograd.Function):
    """``(sum_n a * nll_n + b * smooth_n, sum_n nll_n)`` over the non-ignored positions. With
    incoming gradients ``g`` and ``h`` the gradient is ``-(g * b + (g * a + h) [v = target_n])``
    on those positions, built in one N x V tensor.

    Autograd's own backward of the same expression makes three (zeros for the gather, a sum
    with the broadcast smoothing term, then log-softmax's); on the vocabulary-sized tensors of
    a training batch each fresh one costs a pass over memory and its page faults."""

    @staticmethod
    def forward(
        ctx: Any,
        lprobs: torch.Tensor,
        target: torch.Tensor,
        a: float,
        b: float,
        ignore_index: int | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        nll_sum, smooth_sum, keep = summed_terms(lprobs, target, ignore_index, smooth=True)
        loss = a * nll_sum + b * smooth_sum
        ctx.save_for_backward(target, keep)
        ctx.a, ctx.b, ctx.shape = a, b, lprobs.shape
        return loss, nll_sum

    @staticmethod
    def backward(
        ctx: Any, grad_loss: torch.Tensor, grad_nll: torch.Tensor
    ) -> tuple[torch.Tensor, None, None, None, None]:
        target, keep = ctx.saved_tensors
        smooth = (grad_loss * -ctx.b).expand(target.shape)
        true_class = (grad_loss * -ctx.a - grad_nll).expand(target.shape)
        if keep is not None:
            smooth, true_class = smooth * keep, true_class * keep
        grad = smooth.unsqueeze(-1).expand(ctx.shape).contiguous()
        grad.scatter_add_(-1, target.unsqueeze(-1), true_class.unsqueeze(-1))
        return grad, None, None, None, None


@register_criterion("label_smoothed_cross_entropy", dataclass=LabelSmoothedCrossEntropyConfig)
class LabelSmoothedCrossEntropyCriterion(Criterion):
    """Label-smoothed cross entropy against ``sample["target"]``, padding ignored."""

    def __init__(self, cfg: Any, task: Any) -> None:
        super().__init__(cfg, task)
        self.eps = cfg.label_smoothing
        self.ignore_prefix_size = cfg.ignore_prefix_size
        self.report_accuracy = cfg.report_accuracy
        self.sentence_avg = cfg.sentence_avg

    def forward(
        self, model: nn.Module, sample: dict[str, Any], reduce: bool = True
    ) -> tuple[torch.Tensor, int | float, dict[str, Any]]:
        net_output = model(**sample["net_input"])
        logits = model.get_logits(net_output) if reduce else None
        if logits is not None:  # the loss and its gradient straight from the scores
            scores, target = self.without_prefix(logits, model.get_targets(sample, net_output))
            loss, nll_loss = summed_cross_entropy(scores, target, self.eps, self.padding_idx)
        else:
            scores, target = self.lprobs_and_target(model, net_output, sample)
            loss, nll_loss = label_smoothed_nll_loss(
                scores, target, self.eps, ignore_index=self.padding_idx, reduce=reduce
            )
        nsentences = sample["target"].size(0)
        sample_size = nsentences if self.sentence_avg else sample["ntokens"]
        logging_output = {
            "loss": float(loss.detach().sum()),
            "nll_loss": float(nll_loss.detach().sum()),
            "ntokens": sample["ntokens"],
            "nsentences": nsentences,
            "sample_size": sample_size,
        }
        if self.report_accuracy:
            n_correct, total = self.compute_accuracy(scores, target)
            logging_output["n_correct"] = n_correct
            logging_output["total"] = total
        return loss, sample_size, logging_output

    def lprobs_and_target(
        self, model: nn.Module, net_output: Any, sample: dict[str, Any]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities (N x V) and targets (N), without the first ``ignore_prefix_size``
        positions of each sentence."""
        lprobs = model.get_normalized_probs(net_output, log_probs=True)
        return self.without_prefix(lprobs, model.get_targets(sample, net_output))

    def without_prefix(
        self, scores: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores or log-probabilities (B x T x V) and targets (B x T) as N x V and N, without
        the first ``ignore_prefix_size`` positions of each sentence."""
        if self.ignore_prefix_size > 0:
            scores = scores[:, self.ignore_prefix_size :, :]
            target = target[:, self.ignore_prefix_size :]
        return scores.reshape(-1, scores.size(-1)), target.reshape(-1)

    def compute_accuracy(self, scores: torch.Tensor, target: torch.Tensor) -> tuple[int, int]:
        """(argmax predictions equal to the target, non-pad targets), from scores or
        log-probabilities alike (the softmax keeps the argmax)."""
        mask = target.ne(self.padding_idx)
        n_correct = scores.argmax(dim=-1).eq(target).logical_and(mask).sum()
        return int(n_correct), int(mask.sum())

    @classmethod
    def reduce_metrics(cls, logging_outputs: list[dict[str, Any]]) -> dict[str, float]:
        """``loss`` per ``sample_size`` and ``nll_loss`` per token, in base 2; ``ppl``; and
        ``accuracy`` in percent when it was reported."""
        ntokens = summed(logging_outputs, "ntokens")
        sample_size = summed(logging_outputs, "sample_size")
        nll_loss = base2(summed(logging_outputs, "nll_loss"), ntokens)
        metrics = {
            "loss": base2(summed(logging_outputs, "loss"), sample_size),
            "nll_loss": nll_loss,
            "ppl": perplexity(nll_loss),
            "ntokens": ntokens,
            "nsentences": summed(logging_outputs, "nsentences"),
            "sample_size": sample_size,
        }
        total = summed(logging_outputs, "total")
        if total > 0:
            n_correct = summed(logging_outputs, "n_correct")
            metrics["n_correct"] = n_correct
            metrics["total"] = total
            metrics["accuracy"] = 100.0 * n_correct / total
        return metrics
