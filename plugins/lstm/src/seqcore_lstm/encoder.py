"""The LSTM encoder: embeddings, a (possibly bidirectional) multi-layer LSTM over the source.

Its output is a dict of batch-first tensors, so that the core's default
``reorder_encoder_out`` (which reorders dimension 0 of every tensor) serves beam search:

- ``encoder_out``: B x S x C, the top layer's states (C = hidden size, twice that when
  bidirectional), zero at padding;
- ``encoder_hiddens`` / ``encoder_cells``: B x L x C, each layer's final hidden and cell state
  (a bidirectional layer's forward and backward states concatenated);
- ``encoder_padding_mask``: B x S, true at padding.

Positions follow the source moved to the right-padded layout (tokens first, padding last),
whatever the padding side of the batch.
"""

from __future__ import annotations

import torch
from torch import nn

from seqcore.models import Encoder
from seqcore_lstm.layers import embedding, lstm

EncoderOut = dict[str, torch.Tensor]


def to_right_padding(tokens: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """``tokens`` with every row's non-padding tokens moved to the front, order kept."""
    pad_mask = tokens.eq(padding_idx)
    if not pad_mask.any():
        return tokens
    order = torch.sort(pad_mask.to(torch.uint8), dim=1, stable=True).indices
    return tokens.gather(1, order)


class LSTMEncoder(Encoder):
    def __init__(
        self,
        dictionary,
        embed_tokens: nn.Embedding | None = None,
        embed_dim: int = 512,
        hidden_size: int = 512,
        num_layers: int = 1,
        dropout_in: float = 0.1,
        dropout_out: float = 0.1,
        bidirectional: bool = False,
        max_source_positions: int = 1024,
    ) -> None:
        super().__init__(dictionary)
        self.padding_idx = dictionary.pad()
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.max_source_positions = max_source_positions
        self.output_units = hidden_size * (2 if bidirectional else 1)

        if embed_tokens is None:
            embed_tokens = embedding(len(dictionary), embed_dim, self.padding_idx)
        self.embed_tokens = embed_tokens
        self.dropout_in = nn.Dropout(dropout_in)
        self.dropout_out = nn.Dropout(dropout_out)
        # between stacked layers nn.LSTM applies the output dropout, as fairseq configures it
        self.lstm = lstm(
            embed_tokens.embedding_dim,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout_out if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )

    def forward(self, src_tokens: torch.Tensor, src_lengths: torch.Tensor) -> EncoderOut:
        src_tokens = to_right_padding(src_tokens, self.padding_idx)
        bsz, seqlen = src_tokens.shape

        x = self.dropout_in(self.embed_tokens(src_tokens))
        packed = nn.utils.rnn.pack_padded_sequence(
            x, src_lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        packed_out, (final_hiddens, final_cells) = self.lstm(packed)
        x, _ = nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True, total_length=seqlen)
        x = self.dropout_out(x)

        return {
            "encoder_out": x,
            "encoder_hiddens": self.layer_states(final_hiddens, bsz),
            "encoder_cells": self.layer_states(final_cells, bsz),
            "encoder_padding_mask": src_tokens.eq(self.padding_idx),
        }

    def layer_states(self, states: torch.Tensor, bsz: int) -> torch.Tensor:
        """nn.LSTM's final states ((L * directions) x B x H, layer-major) as B x L x C, the two
        directions of a layer concatenated (forward first)."""
        states = states.view(self.num_layers, -1, bsz, self.hidden_size)
        return states.permute(2, 0, 1, 3).reshape(bsz, self.num_layers, self.output_units)

    def max_positions(self) -> int:
        return self.max_source_positions
