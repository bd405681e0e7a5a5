"""Building blocks of the LSTM models, initialised as fairseq's ``lstm.py`` does.

fairseq draws every weight and bias of its LSTM models uniformly from [-0.1, 0.1] and zeroes
the padding row of embeddings; the helpers below make the same modules with the same
initialisation, and :class:`AttentionLayer` is the global attention (Luong et al., 2015) of
fairseq's LSTM decoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INIT_RANGE = 0.1


def uniform_init_(module: nn.Module) -> nn.Module:
    """Every parameter of ``module`` drawn from U(-0.1, 0.1)."""
    for param in module.parameters():
        nn.init.uniform_(param, -INIT_RANGE, INIT_RANGE)
    return module


def embedding(num_embeddings: int, embedding_dim: int, padding_idx: int) -> nn.Embedding:
    m = uniform_init_(nn.Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx))
    with torch.no_grad():
        m.weight[padding_idx].zero_()
    return m


def linear(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    return uniform_init_(nn.Linear(in_features, out_features, bias=bias))


def lstm(input_size: int, hidden_size: int, **kwargs) -> nn.LSTM:
    return uniform_init_(nn.LSTM(input_size, hidden_size, **kwargs))


def lstm_cell(input_size: int, hidden_size: int) -> nn.LSTMCell:
    return uniform_init_(nn.LSTMCell(input_size, hidden_size))


class AttentionLayer(nn.Module):
    """Dot-product attention of a decoder state over the source positions.

    The decoder state ``h`` (``input_dim``) is projected to the source size, scored against every
    source state, the scores are soft-maxed over the source positions (padding excluded), and
    the resulting context ``c`` gives the output ``tanh(W_out [c; h])`` of size ``output_dim``.
    No biases, as in fairseq.
    """

    def __init__(self, input_dim: int, source_dim: int, output_dim: int, bias: bool = False):
        super().__init__()
        self.input_proj = linear(input_dim, source_dim, bias=bias)
        self.output_proj = linear(input_dim + source_dim, output_dim, bias=bias)

    def forward(
        self,
        hidden: torch.Tensor,
        source_hids: torch.Tensor,
        source_padding_mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``hidden``: B x input_dim; ``source_hids``: B x S x source_dim; ``source_padding_mask``:
        B x S, true at padding. Returns the output (B x output_dim) and the attention weights
        (B x S)."""
        query = self.input_proj(hidden)
        scores = torch.bmm(source_hids, query.unsqueeze(2)).squeeze(2)
        if scores.dtype in (torch.float16, torch.bfloat16):
            scores = scores.float()  # softmax in float32 at least
        if source_padding_mask is not None:
            scores = scores.masked_fill(source_padding_mask, float("-inf"))
        weights = F.softmax(scores, dim=1).type_as(source_hids)
        context = torch.bmm(weights.unsqueeze(1), source_hids).squeeze(1)
        out = torch.tanh(self.output_proj(torch.cat((context, hidden), dim=1)))
        return out, weights
