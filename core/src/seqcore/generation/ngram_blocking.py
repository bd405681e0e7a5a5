"""No-repeat n-gram blocking (fairseq's ``--no-repeat-ngram-size``), vectorised over hypotheses.

A hypothesis whose last ``n - 1`` tokens already occurred followed by some token ``t`` may not emit
``t`` again, so no n-gram appears twice in an output.
"""

from __future__ import annotations

import math

import torch


def block_repeated_ngrams(tokens: torch.Tensor, lprobs: torch.Tensor, n: int) -> torch.Tensor:
    """Set to ``-inf`` (in place) the log-probabilities that would repeat an n-gram.

    ``tokens`` (N x L) holds each hypothesis so far, starting with its begin-of-sentence token
    (which is not part of any n-gram); ``lprobs`` (N x V) scores the next token.
    """
    history = tokens[:, 1:]
    length = history.size(1)
    if n <= 0 or length < n:
        return lprobs
    windows = history.unfold(1, n, 1)  # N x (length - n + 1) x n: every n-gram so far
    if n == 1:
        seen = torch.ones(windows.shape[:2], dtype=torch.bool, device=tokens.device)
    else:
        suffix = history[:, length - n + 1 :]  # the n - 1 tokens the next one would extend
        seen = (windows[:, :, :-1] == suffix.unsqueeze(1)).all(dim=-1)
    hits = torch.zeros_like(lprobs).scatter_add_(1, windows[:, :, -1], seen.to(lprobs.dtype))
    return lprobs.masked_fill_(hits > 0, -math.inf)
