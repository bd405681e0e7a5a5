"""Token positions and their embeddings, numbered as fairseq numbers them.

Positions start at ``padding_idx + 1`` and count only non-padding tokens, so a left-padded
sentence gets the same positions as the unpadded one; padding tokens get position
``padding_idx``, whose embedding is zero. Both kinds of embedding take the padding mask the caller
already computed (``None`` when there is no padding) and then skip the per-token lookup: the
positions of an unpadded batch are one slice of the table, broadcast over the batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seqcore.errors import DataError


def make_positions(padding_mask: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """Positions (B x T, long) of a batch with ``padding_mask`` (B x T, True at padding)."""
    not_pad = (~padding_mask).long()
    return torch.cumsum(not_pad, dim=1) * not_pad + padding_idx


def sinusoidal_table(num_embeddings: int, embedding_dim: int, padding_idx: int) -> torch.Tensor:
    """fairseq's sinusoidal table (tensor2tensor's variant): row ``p`` holds
    ``sin(p * w_i)`` for ``i < half`` followed by ``cos(p * w_i)``, with
    ``w_i = exp(-i * ln(10000) / (half - 1))`` and ``half = dim // 2``; an odd ``dim`` gets a
    zero last column, and the row of ``padding_idx`` is zero."""
    half = embedding_dim // 2
    step = math.log(10000) / (half - 1) if half > 1 else 0.0
    freqs = torch.exp(torch.arange(half, dtype=torch.float) * -step)
    angles = torch.arange(num_embeddings, dtype=torch.float).unsqueeze(1) * freqs.unsqueeze(0)
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if embedding_dim % 2 == 1:
        table = torch.cat([table, torch.zeros(num_embeddings, 1)], dim=1)
    table[padding_idx, :] = 0
    return table


class SinusoidalPositionalEmbedding(nn.Module):
    """Fixed sinusoidal positions (no parameters); the table grows for longer inputs."""

    def __init__(self, embedding_dim: int, padding_idx: int, init_size: int = 1024) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        table = sinusoidal_table(init_size + padding_idx + 1, embedding_dim, padding_idx)
        self.register_buffer("weights", table, persistent=False)

    def _table(self, rows: int) -> torch.Tensor:
        if rows > self.weights.size(0):
            table = sinusoidal_table(rows, self.embedding_dim, self.padding_idx)
            self.weights = table.to(self.weights)
        return self.weights

    def forward(
        self, tokens: torch.Tensor, padding_mask: torch.Tensor | None, start: int = 0
    ) -> torch.Tensor:
        """Embeddings of positions ``start:`` of ``tokens`` (B x T): ``1 x (T-start) x C``
        without padding, else ``B x (T-start) x C``."""
        first = self.padding_idx + 1
        length = tokens.size(1)
        table = self._table(first + length)
        if padding_mask is None:
            return table[first + start : first + length].unsqueeze(0)
        return table[make_positions(padding_mask, self.padding_idx)[:, start:]]


class LearnedPositionalEmbedding(nn.Embedding):
    """Learned positions: ``max_positions + padding_idx + 1`` rows, as fairseq sizes them."""

    def __init__(self, max_positions: int, embedding_dim: int, padding_idx: int, flag: str):
        super().__init__(max_positions + padding_idx + 1, embedding_dim, padding_idx)
        self.max_positions = max_positions
        self.flag = flag
        nn.init.normal_(self.weight, mean=0.0, std=embedding_dim**-0.5)
        with torch.no_grad():
            self.weight[padding_idx].zero_()

    def forward(
        self, tokens: torch.Tensor, padding_mask: torch.Tensor | None, start: int = 0
    ) -> torch.Tensor:
        length = tokens.size(1)
        if length > self.max_positions:
            raise DataError(
                f"a sequence of {length} tokens is longer than {self.flag} {self.max_positions} "
                f"(learned positional embeddings)"
            )
        first = self.padding_idx + 1
        if padding_mask is None:
            return self.weight[first + start : first + length].unsqueeze(0)
        positions = make_positions(padding_mask, self.padding_idx)[:, start:]
        return nn.functional.embedding(positions, self.weight, self.padding_idx)
