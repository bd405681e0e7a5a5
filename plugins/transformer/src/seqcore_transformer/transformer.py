"""The Transformer encoder-decoder (Vaswani et al., 2017), as fairseq's ``transformer`` model.

Read top to bottom: embeddings, the encoder, the decoder (with incremental decoding), the model.
Tensors are batch first throughout (B x T x C); the encoder output is a dict
``{"encoder_out": B x S x C, "encoder_padding_mask": B x S bool or None}`` (``None`` when no
source token is padding), so the core's default ``reorder_encoder_out`` applies.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.errors import ConfigError
from seqcore.models import (
    Decoder,
    Encoder,
    EncoderDecoderModel,
    IncrementalState,
    register_model,
)
from seqcore_transformer.attention import Packing, is_cpu_half_precision
from seqcore_transformer.config import TransformerConfig
from seqcore_transformer.layers import (
    TransformerDecoderLayer,
    TransformerEncoderLayer,
    dropout,
    layers_to_run,
    run_layer,
)
from seqcore_transformer.positional import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEmbedding,
)

EncoderOut = dict[str, torch.Tensor | None]


def Embedding(num_embeddings: int, embedding_dim: int, padding_idx: int) -> nn.Embedding:
    """A token embedding initialised as fairseq's: N(0, dim^-0.5), padding row zero."""
    emb = nn.Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx)
    nn.init.normal_(emb.weight, mean=0.0, std=embedding_dim**-0.5)
    with torch.no_grad():
        emb.weight[padding_idx].zero_()
    return emb


def PositionalEmbedding(
    max_positions: int, embedding_dim: int, padding_idx: int, learned: bool, flag: str
) -> nn.Module:
    if learned:
        return LearnedPositionalEmbedding(max_positions, embedding_dim, padding_idx, flag)
    return SinusoidalPositionalEmbedding(embedding_dim, padding_idx, max_positions)


def padding_mask_of(tokens: torch.Tensor, padding_idx: int) -> torch.Tensor | None:
    """``tokens == padding_idx`` (B x T), or ``None`` when nothing is padding (always the mask
    under torch.compile, where whether any is padding is data the graph cannot branch on)."""
    mask = tokens.eq(padding_idx)
    if torch.compiler.is_compiling():
        return mask
    return mask if bool(mask.any()) else None


def rounds_row_counts(x: torch.Tensor) -> bool:
    """Whether the matrix products of ``x``'s layers should all see row counts that are
    multiples of 64 (:class:`Packing`): half precision on the CPU, where oneDNN builds and caches
    kernels for each new shape. Elsewhere a product costs the same whatever its row count, and
    packing is done only where it leaves padding out."""
    return is_cpu_half_precision(x)


def packing_of(x: torch.Tensor, padding_mask: torch.Tensor | None, rounded: bool) -> Packing | None:
    """The :class:`Packing` that a whole batch ``x`` (B x T x C) runs its position-wise layers
    on, or ``None`` for B x T: where nothing is padding and ``rounded`` (row counts that are
    multiples of 64) is not asked for, and under torch.compile, where the number of real
    positions is data the graph cannot hold."""
    if torch.compiler.is_compiling() or (padding_mask is None and not rounded):
        return None
    return Packing(padding_mask, x.shape[:2], x.device)


def residual_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype that the layers' residual stream (their inputs and outputs, the layer norms
    between them) is held in, for embeddings ``x``: the autocast dtype under the CPU's autocast
    (``--bf16``, ``--fp16``, ``--amp``), else ``x``'s own.

    fairseq's ``--bf16`` and ``--fp16`` models are half precision throughout, the residual
    stream included. Under autocast a float32 stream would be cast to half precision again at
    every projection's input and its gradient cast back, and each element-wise pass (dropout,
    the residual sums, the layer norms) would move twice the bytes; on the CPU, where those
    passes weigh next to oneDNN's half-precision products, that was about 4% of a --bf16
    update (bench/RESULTS.md). Parameters stay float32, and so do the loss and its softmax."""
    if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        return torch.get_autocast_dtype("cpu")
    return x.dtype


class _EmbeddingMixin(nn.Module):
    """The input side shared by encoder and decoder: token embedding scaled by sqrt(dim),
    positions, optional layernorm, dropout (attribute names are fairseq's)."""

    def _build_embeddings(
        self,
        cfg: Any,
        embed_tokens: nn.Embedding,
        dim: int,
        max_positions: int,
        learned_pos: bool,
        positions_flag: str,
    ) -> None:
        self.padding_idx = embed_tokens.padding_idx
        self.dropout = cfg.dropout
        self.embed_tokens = embed_tokens
        self.embed_scale = 1.0 if cfg.no_scale_embedding else math.sqrt(dim)
        # embeddings narrower or wider than the layers (a language model's --decoder-input-dim)
        # are projected to ``dim`` after the scaling, before the positions are added
        input_dim = embed_tokens.embedding_dim
        self.project_in_dim = nn.Linear(input_dim, dim, bias=False) if input_dim != dim else None
        self.embed_positions = (
            None
            if cfg.no_token_positional_embeddings
            else PositionalEmbedding(
                max_positions, dim, self.padding_idx, learned_pos, positions_flag
            )
        )
        self.layernorm_embedding = nn.LayerNorm(dim) if cfg.layernorm_embedding else None

    def _embed(
        self, tokens: torch.Tensor, padding_mask: torch.Tensor | None, start: int = 0
    ) -> torch.Tensor:
        """Embeddings of positions ``start:`` of ``tokens`` (B x T) in the residual stream's
        dtype (:func:`residual_dtype`), dropout applied."""
        x = self.embed_tokens(tokens[:, start:]) * self.embed_scale
        if self.project_in_dim is not None:
            x = self.project_in_dim(x)
        if self.embed_positions is not None:
            x = x + self.embed_positions(tokens, padding_mask, start)
        if self.layernorm_embedding is not None:
            x = self.layernorm_embedding(x)
        return dropout(x.to(residual_dtype(x)), self.dropout, self.training)


class TransformerEncoder(_EmbeddingMixin, Encoder):
    """Token and position embeddings, then ``encoder_layers`` encoder layers."""

    def __init__(self, cfg: TransformerConfig, dictionary: Any, embed_tokens: nn.Embedding):
        super().__init__(dictionary)
        dim = embed_tokens.embedding_dim
        self.max_source_positions = cfg.max_source_positions
        self._build_embeddings(
            cfg, embed_tokens, dim, cfg.max_source_positions, cfg.encoder_learned_pos,
            "--max-source-positions",
        )  # fmt: skip
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(
                dim,
                cfg.encoder_ffn_embed_dim,
                cfg.encoder_attention_heads,
                dropout=cfg.dropout,
                attention_dropout=cfg.attention_dropout,
                activation_dropout=cfg.activation_dropout,
                activation_fn=cfg.activation_fn,
                normalize_before=cfg.encoder_normalize_before,
            )
            for _ in range(cfg.encoder_layers)
        )
        self.layer_norm = nn.LayerNorm(dim) if cfg.encoder_normalize_before else None
        self.checkpoint_activations = cfg.checkpoint_activations
        self.layerdrop = cfg.encoder_layerdrop

    def forward(self, src_tokens: torch.Tensor, src_lengths: Any = None) -> EncoderOut:
        """``src_tokens``: B x S (left- or right-padded)."""
        padding_mask = padding_mask_of(src_tokens, self.padding_idx)
        x = self._embed(src_tokens, padding_mask)
        attn_mask = None if padding_mask is None else ~padding_mask[:, None, None, :]
        # sources are hardly padded (0.2% in fairseq's batch order): packed only to round rows
        packing = packing_of(x, padding_mask, True) if rounds_row_counts(x) else None
        if packing is not None:
            x = packing.pack(x)
        elif padding_mask is not None:
            x = x.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        for layer in layers_to_run(self.layers, self.layerdrop, self.training):
            x = run_layer(layer, self.checkpoint_activations, x, attn_mask, packing)
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        if packing is not None:
            x = packing.unpack(x)
        return {"encoder_out": x, "encoder_padding_mask": padding_mask}

    def max_positions(self) -> int:
        return self.max_source_positions


def self_attention_mask(
    padding_mask: torch.Tensor | None, start: int, length: int, device: torch.device
) -> tuple[torch.Tensor | None, bool]:
    """How positions ``start:length`` attend to positions ``:length``: ``(mask, is_causal)``.

    The common cases need no mask: a whole sequence without padding, or right-padded (padding
    only after the last real token, as targets are) — causal attention never lets a real token
    see the padding after it — is ``is_causal``; one new position after a filled cache sees the
    whole prefix. Otherwise the mask (True = may attend) is materialised: causal from ``start``,
    minus padding keys, plus each position's own key so that no row is empty. (Under
    torch.compile the mask is always materialised: where the padding lies is data.)
    """
    new = length - start
    if padding_mask is not None and start == 0 and new > 1 and not torch.compiler.is_compiling():
        gaps = padding_mask[:, :-1] & ~padding_mask[:, 1:]  # a pad followed by a real token
        if not bool(gaps.any()):
            padding_mask = None
    if padding_mask is None:
        if new == 1:
            return None, False
        if start == 0:
            return None, True
    query_pos = torch.arange(start, length, device=device).unsqueeze(1)
    key_pos = torch.arange(length, device=device).unsqueeze(0)
    allowed = (key_pos <= query_pos)[None, None]  # 1 x 1 x new x length
    if padding_mask is not None:
        allowed = allowed & ~padding_mask[:, None, None, :]
        allowed = allowed | (key_pos == query_pos)[None, None]
    return allowed, False


# Up to this many rows the decoder's output projection runs as ``weight @ x^T`` (see
# TransformerDecoder.output_layer); from about 12 rows on the two orders cost the same.
SMALL_PRODUCT_ROWS = 10


class TransformerDecoder(_EmbeddingMixin, Decoder):
    """Token and position embeddings, ``decoder_layers`` decoder layers, an output projection.

    With an ``incremental_state`` it caches each layer's keys and values, and on later calls
    (which pass the whole prefix) computes only the positions not yet cached.
    """

    def __init__(
        self,
        cfg: Any,
        dictionary: Any,
        embed_tokens: nn.Embedding,
        *,
        encoder_embed_dim: int | None,
        share_input_output_embed: bool,
    ) -> None:
        super().__init__(dictionary)
        dim = cfg.decoder_embed_dim
        self.max_target_positions = cfg.max_target_positions
        self._build_embeddings(
            cfg, embed_tokens, dim, cfg.max_target_positions, cfg.decoder_learned_pos,
            "--max-target-positions",
        )  # fmt: skip
        self.layers = nn.ModuleList(
            TransformerDecoderLayer(
                dim,
                cfg.decoder_ffn_embed_dim,
                cfg.decoder_attention_heads,
                dropout=cfg.dropout,
                attention_dropout=cfg.attention_dropout,
                activation_dropout=cfg.activation_dropout,
                activation_fn=cfg.activation_fn,
                normalize_before=cfg.decoder_normalize_before,
                encoder_embed_dim=encoder_embed_dim,
            )
            for _ in range(cfg.decoder_layers)
        )
        self.checkpoint_activations = cfg.checkpoint_activations
        self.layerdrop = cfg.decoder_layerdrop
        final_norm = cfg.decoder_normalize_before and not cfg.no_decoder_final_norm
        self.layer_norm = nn.LayerNorm(dim) if final_norm else None
        out_dim = cfg.decoder_output_dim
        self.project_out_dim = nn.Linear(dim, out_dim, bias=False) if out_dim != dim else None
        self.output_projection = nn.Linear(out_dim, len(dictionary), bias=False)
        if share_input_output_embed:
            self.output_projection.weight = embed_tokens.weight
        else:
            nn.init.normal_(self.output_projection.weight, mean=0.0, std=out_dim**-0.5)

    def forward(
        self,
        prev_output_tokens: torch.Tensor,
        encoder_out: EncoderOut | None = None,
        incremental_state: IncrementalState | None = None,
        features_only: bool = False,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Logits B x T x V (B x new x V with a filled cache) and ``{"attn": None}``."""
        x, packing = self._features(prev_output_tokens, encoder_out, incremental_state)
        if packing is not None and not features_only and rounds_row_counts(x):
            return packing.unpack(self.output_layer(x)), {"attn": None}  # rounded rows here too
        if packing is not None:
            x = packing.unpack(x)
        return (x if features_only else self.output_layer(x)), {"attn": None}

    def extract_features(
        self,
        prev_output_tokens: torch.Tensor,
        encoder_out: EncoderOut | None = None,
        incremental_state: IncrementalState | None = None,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """The last layer's features, B x T x C (B x new x C with a filled cache)."""
        x, packing = self._features(prev_output_tokens, encoder_out, incremental_state)
        return (x if packing is None else packing.unpack(x)), {"attn": None}

    def _features(
        self,
        prev_output_tokens: torch.Tensor,
        encoder_out: EncoderOut | None,
        incremental_state: IncrementalState | None,
    ) -> tuple[torch.Tensor, Packing | None]:
        """The last layer's features and the packing of their rows (``None``: B x T x C)."""
        length = prev_output_tokens.size(1)
        start = self.get_incremental_state(incremental_state, "length") or 0
        if start >= length:
            raise ValueError(
                f"the incremental state already holds {start} positions; the prefix passed has "
                f"{length} (pass the whole prefix, one token longer each step)"
            )
        padding_mask = padding_mask_of(prev_output_tokens, self.padding_idx)
        x = self._embed(prev_output_tokens, padding_mask, start)

        self_mask, causal = self_attention_mask(padding_mask, start, length, x.device)
        enc, enc_padding, enc_mask = None, None, None
        if encoder_out is not None:
            enc = encoder_out["encoder_out"]
            enc_padding = encoder_out.get("encoder_padding_mask")
            if enc_padding is not None:
                enc_mask = ~enc_padding[:, None, None, :]
        # a whole batch (not incremental decoding): the position-wise work on packed rows, the
        # encoder output's projections too
        packing, enc_packing = None, None
        if incremental_state is None:
            rounded = rounds_row_counts(x)
            packing = packing_of(x, padding_mask, rounded)
            if packing is not None:
                x = packing.pack(x)
            if enc is not None and rounded:
                enc_packing = packing_of(enc, enc_padding, True)
                if enc_packing is not None:
                    enc = enc_packing.pack(enc)
        for layer in layers_to_run(self.layers, self.layerdrop, self.training):
            x = run_layer(
                layer,
                self.checkpoint_activations,
                *(x, self_mask, causal, enc, enc_mask, incremental_state, packing, enc_packing),
            )
        self.set_incremental_state(incremental_state, "length", length)

        if self.layer_norm is not None:
            x = self.layer_norm(x)
        if self.project_out_dim is not None:
            x = self.project_out_dim(x)
        return x, packing

    def output_layer(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of ``features`` (B x T x C). For a few rows (one incremental step of a
        sentence's beams: what ``interactive`` waits for) the product is taken as
        ``weight @ features^T`` and returned transposed: on the CPU, torch's ``x @ weight^T``
        of 5 rows by an 8000 x 256 vocabulary took 1.7-2x the time (bench/RESULTS.md), and
        the output projection is the largest product of a decoding step."""
        weight = self.output_projection.weight
        rows = features.numel() // features.size(-1)
        if rows > SMALL_PRODUCT_ROWS or torch.compiler.is_compiling():
            return F.linear(features, weight)
        flat = features.reshape(rows, features.size(-1))
        return torch.mm(weight, flat.t()).t().view(*features.shape[:-1], weight.size(0))

    def reorder_incremental_state(
        self, incremental_state: IncrementalState, new_order: torch.Tensor
    ) -> None:
        """Each attention reorders its own cache (``reorder_cache``): the self-attention
        caches in one pass each; the encoder output's keys and values follow the encoder output
        the next step is given (see the attention module)."""
        for layer in self.layers:
            layer.self_attn.reorder_cache(incremental_state, new_order)
            if layer.encoder_attn is not None:
                layer.encoder_attn.reorder_cache(incremental_state, new_order)

    def max_positions(self) -> int:
        return self.max_target_positions


def same_dictionary(a: Any, b: Any) -> bool:
    """Whether two dictionaries hold the same symbols in the same order."""
    if a is b:
        return True
    symbols_a, symbols_b = getattr(a, "symbols", None), getattr(b, "symbols", None)
    if symbols_a is not None and symbols_b is not None:
        return list(symbols_a) == list(symbols_b)
    return bool(a == b)


@register_model("transformer", dataclass=TransformerConfig)
class TransformerModel(EncoderDecoderModel):
    """fairseq's ``transformer``: ``forward(src_tokens, src_lengths, prev_output_tokens)``."""

    @classmethod
    def build_model(cls, cfg: TransformerConfig, task: Any) -> TransformerModel:
        src_dict, tgt_dict = task.source_dictionary, task.target_dictionary
        share_io = cfg.share_decoder_input_output_embed
        if cfg.share_all_embeddings:
            if not same_dictionary(src_dict, tgt_dict):
                raise ConfigError(
                    f"--share-all-embeddings requires a joined dictionary, but the source "
                    f"dictionary ({len(src_dict)} symbols) differs from the target dictionary "
                    f"({len(tgt_dict)} symbols)"
                )
            encoder_embed = Embedding(len(src_dict), cfg.encoder_embed_dim, src_dict.pad())
            decoder_embed = encoder_embed
            share_io = True
        else:
            encoder_embed = Embedding(len(src_dict), cfg.encoder_embed_dim, src_dict.pad())
            decoder_embed = Embedding(len(tgt_dict), cfg.decoder_embed_dim, tgt_dict.pad())
        encoder = TransformerEncoder(cfg, src_dict, encoder_embed)
        decoder = TransformerDecoder(
            cfg,
            tgt_dict,
            decoder_embed,
            encoder_embed_dim=cfg.encoder_embed_dim,
            share_input_output_embed=share_io,
        )
        return cls(encoder, decoder)

    def may_skip_parameters(self) -> bool:
        return self.encoder.layerdrop > 0 or self.decoder.layerdrop > 0
