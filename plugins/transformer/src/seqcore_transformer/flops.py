"""The matrix-product FLOPs of training the ``transformer`` model, for model FLOPs utilisation.

Counted as in the usual MFU estimates (PaLM's appendix, nanoGPT's ``estimate_mfu``): every
matrix product of the forward pass at 2 FLOPs per multiply-add, attention scores and their
weighted sum included (causal attention counted in full, as torch's flop counter does), and the
backward pass at twice the forward. Element-wise work (layer norm, softmax, dropout) is left out.
Per sentence pair, so padding never counts as useful work.
"""

from __future__ import annotations

from typing import Any


def forward_flops(cfg: Any, vocab_size: int, src_len: int, tgt_len: int) -> int:
    """Forward matrix-product FLOPs of a resolved ``transformer`` config on one pair of
    ``src_len`` source and ``tgt_len`` target tokens, with an output vocabulary of
    ``vocab_size``."""
    s, t = src_len, tgt_len
    de, dd = cfg.encoder_embed_dim, cfg.decoder_embed_dim
    encoder_layer = 2 * s * (4 * de * de + 2 * de * cfg.encoder_ffn_embed_dim)
    encoder_layer += 2 * 2 * s * s * de  # scores and weighted sum
    decoder_layer = 2 * t * (4 * dd * dd + 2 * dd * cfg.decoder_ffn_embed_dim)
    decoder_layer += 2 * 2 * t * t * dd
    decoder_layer += 2 * t * 2 * dd * dd + 2 * s * 2 * de * dd  # cross: q, out; k, v
    decoder_layer += 2 * 2 * t * s * dd
    out_dim = cfg.decoder_output_dim or dd
    output = 2 * t * out_dim * vocab_size + (2 * t * dd * out_dim if out_dim != dd else 0)
    return cfg.encoder_layers * encoder_layer + cfg.decoder_layers * decoder_layer + output


def training_flops(cfg: Any, vocab_size: int, src_len: int, tgt_len: int) -> int:
    """Forward and backward: the backward pass computes two products (the gradients of the input
    and of the weight) for each one of the forward pass."""
    return 3 * forward_flops(cfg, vocab_size, src_len, tgt_len)
