"""Scoring given target sequences instead of searching for them (fairseq's ``--score-reference``).

Each target token's log-probability comes from one forward pass with the target as the
decoder's input (teacher forcing); an ensemble takes the log of the models' mean probability,
as in search. A sequence's score is the sum over its tokens (``</s>`` included) divided by its
length, the score ``generate`` prints for a hypothesis of that length with the default length
penalty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class SequenceScorer:
    """Returns, like :meth:`SequenceGenerator.generate`, one list per sentence holding a single
    hypothesis: the reference, with its ``score`` and ``positional_scores``."""

    def __init__(self, models: Sequence[nn.Module], tgt_dict: Any) -> None:
        if len(models) == 0:
            raise ValueError("SequenceScorer needs at least one model")
        self.models = list(models)
        self.pad = tgt_dict.pad()

    @torch.no_grad()
    def generate(self, sample: dict[str, Any], **_: Any) -> list[list[dict[str, Any]]]:
        target = sample["target"]
        per_model = []
        for model in self.models:
            net_output = model(**sample["net_input"])
            lprobs = model.get_normalized_probs(net_output, log_probs=True).float()
            per_model.append(lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1))
        if len(per_model) == 1:
            token_scores = per_model[0]
        else:
            stacked = torch.stack(per_model)
            token_scores = torch.logsumexp(stacked, dim=0) - math.log(len(per_model))
        hypotheses = []
        for row, scores in zip(target, token_scores):
            keep = row.ne(self.pad)
            positional = scores[keep]
            hypotheses.append(
                [
                    {
                        "tokens": row[keep],
                        "score": float(positional.sum() / max(len(positional), 1)),
                        "positional_scores": positional,
                    }
                ]
            )
        return hypotheses
