"""The LSTM decoder of fairseq's ``lstm`` and ``lstm_lm`` models.

A stack of LSTM cells run one target position at a time. With an encoder, each layer starts
from the final state of the encoder layer of the same depth (projected when the sizes differ),
the top layer's state attends over the encoder outputs, and the attended output is fed back as
an extra input of the first layer at the next position ("input feeding", Luong et al., 2015).
Without an encoder (a language model) the states start at zero and nothing is fed back.

Incremental decoding caches, per decoder, the state after the last position computed:
``prev_hiddens`` and ``prev_cells`` (B x L x H) and ``input_feed`` (B x H, or ``None``), all
batch-first so that the core's default ``reorder_incremental_state`` reorders them.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.models import Decoder
from seqcore_lstm.encoder import EncoderOut
from seqcore_lstm.layers import AttentionLayer, embedding, linear, lstm_cell

CACHE_KEY = "cached_state"


class LSTMDecoder(Decoder):
    def __init__(
        self,
        dictionary,
        embed_tokens: nn.Embedding | None = None,
        embed_dim: int = 512,
        hidden_size: int = 512,
        out_embed_dim: int = 512,
        num_layers: int = 1,
        dropout_in: float = 0.1,
        dropout_out: float = 0.1,
        attention: bool = True,
        encoder_output_units: int = 512,
        share_input_output_embed: bool = False,
        residuals: bool = False,
        max_target_positions: int = 1024,
    ) -> None:
        super().__init__(dictionary)
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.residuals = residuals
        self.share_input_output_embed = share_input_output_embed
        self.max_target_positions = max_target_positions
        self.encoder_output_units = encoder_output_units

        if embed_tokens is None:
            embed_tokens = embedding(len(dictionary), embed_dim, dictionary.pad())
        self.embed_tokens = embed_tokens
        embed_dim = embed_tokens.embedding_dim
        self.dropout_in = nn.Dropout(dropout_in)
        self.dropout_out = nn.Dropout(dropout_out)

        # the encoder's final states become the initial states; project them if sizes differ
        if encoder_output_units not in (0, hidden_size):
            self.encoder_hidden_proj = linear(encoder_output_units, hidden_size)
            self.encoder_cell_proj = linear(encoder_output_units, hidden_size)
        else:
            self.encoder_hidden_proj = self.encoder_cell_proj = None

        # input feeding only when there is an encoder
        self.input_feeding = encoder_output_units > 0
        input_feed_size = hidden_size if self.input_feeding else 0
        self.layers = nn.ModuleList(
            lstm_cell(input_feed_size + embed_dim if i == 0 else hidden_size, hidden_size)
            for i in range(num_layers)
        )

        if attention:
            if encoder_output_units == 0:
                raise ValueError("attention needs an encoder (encoder_output_units > 0)")
            self.attention = AttentionLayer(hidden_size, encoder_output_units, hidden_size)
        else:
            self.attention = None

        self.additional_fc = (
            linear(hidden_size, out_embed_dim) if hidden_size != out_embed_dim else None
        )
        if share_input_output_embed:
            if embed_dim != out_embed_dim:
                raise ValueError("sharing input and output embeddings needs equal dimensions")
            self.fc_out = None
        else:
            self.fc_out = linear(out_embed_dim, len(dictionary))

    def forward(
        self,
        prev_output_tokens: torch.Tensor,
        encoder_out: EncoderOut | None = None,
        incremental_state: dict[str, Any] | None = None,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Logits (B x T x V; B x 1 x V once the cache is filled) and ``{"attn": [weights]}``
        with the attention weights B x T x S (``None`` without attention)."""
        x, attn = self.extract_features(prev_output_tokens, encoder_out, incremental_state)
        return self.output_layer(x), {"attn": [attn]}

    def extract_features(
        self,
        prev_output_tokens: torch.Tensor,
        encoder_out: EncoderOut | None = None,
        incremental_state: dict[str, Any] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The decoder's outputs before the vocabulary projection (B x T x out_embed_dim)."""
        cached = self.get_incremental_state(incremental_state, CACHE_KEY)
        if cached is not None:
            prev_output_tokens = prev_output_tokens[:, -1:]
        seqlen = prev_output_tokens.size(1)

        x = self.dropout_in(self.embed_tokens(prev_output_tokens))

        if cached is not None:
            hiddens = list(cached["prev_hiddens"].unbind(1))
            cells = list(cached["prev_cells"].unbind(1))
            input_feed = cached["input_feed"]
        else:
            hiddens, cells, input_feed = self.initial_state(encoder_out, x)

        if self.attention is not None:
            if encoder_out is None:
                raise ValueError("this decoder attends over the encoder: pass encoder_out")
            source_hids = encoder_out["encoder_out"]
            source_padding_mask = encoder_out["encoder_padding_mask"]

        outs, attn_weights = [], []
        for t in range(seqlen):
            layer_input = x[:, t]
            if input_feed is not None:
                layer_input = torch.cat((layer_input, input_feed), dim=1)
            for i, cell in enumerate(self.layers):
                hidden, c = cell(layer_input, (hiddens[i], cells[i]))
                layer_input = self.dropout_out(hidden)
                if self.residuals:
                    # fairseq's residual: the layer's hidden state at the previous position
                    layer_input = layer_input + hiddens[i]
                hiddens[i], cells[i] = hidden, c

            if self.attention is not None:
                out, weights = self.attention(hidden, source_hids, source_padding_mask)
                attn_weights.append(weights)
            else:
                out = hidden
            out = self.dropout_out(out)
            if input_feed is not None:
                input_feed = out
            outs.append(out)

        self.set_incremental_state(
            incremental_state,
            CACHE_KEY,
            {
                "prev_hiddens": torch.stack(hiddens, dim=1),
                "prev_cells": torch.stack(cells, dim=1),
                "input_feed": input_feed,
            },
        )

        x = torch.stack(outs, dim=1)
        if self.additional_fc is not None:
            x = self.dropout_out(self.additional_fc(x))
        attn = torch.stack(attn_weights, dim=1) if attn_weights else None
        return x, attn

    def initial_state(
        self, encoder_out: EncoderOut | None, x: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor | None]:
        """Per-layer hidden and cell states and the input-feed vector before the first
        position: the encoder's final states, or zeros without an encoder."""
        bsz = x.size(0)
        zeros = x.new_zeros(bsz, self.hidden_size)
        input_feed = zeros if self.input_feeding else None
        if encoder_out is None or self.encoder_output_units == 0:
            return [zeros] * self.num_layers, [zeros] * self.num_layers, input_feed
        hiddens = list(encoder_out["encoder_hiddens"].unbind(1))
        cells = list(encoder_out["encoder_cells"].unbind(1))
        if self.encoder_hidden_proj is not None:
            hiddens = [self.encoder_hidden_proj(h) for h in hiddens]
            cells = [self.encoder_cell_proj(c) for c in cells]
        return hiddens, cells, input_feed

    def output_layer(self, features: torch.Tensor) -> torch.Tensor:
        """Project features to the vocabulary."""
        if self.fc_out is None:
            return F.linear(features, self.embed_tokens.weight)
        return self.fc_out(features)

    def max_positions(self) -> int:
        return self.max_target_positions
