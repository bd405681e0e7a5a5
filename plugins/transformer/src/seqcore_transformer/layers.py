"""Encoder and decoder layers, post-norm (fairseq's default) or pre-norm.

Sub-module names are fairseq's (``self_attn``, ``self_attn_layer_norm``, ``encoder_attn``,
``encoder_attn_layer_norm``, ``fc1``, ``fc2``, ``final_layer_norm``) so that the parameters of a
layer line up with a fairseq checkpoint's, apart from the fused projections
(``self_attn.in_proj`` holds q, k, v; ``encoder_attn.kv_proj`` holds k, v).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn

from seqcore.models import IncrementalState
from seqcore_transformer.attention import EncoderDecoderAttention, Packing, SelfAttention

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"relu": F.relu, "gelu": F.gelu}


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout that costs nothing when it would do nothing. On the CPU it draws its mask from
    16-bit random integers (:func:`keep_mask`; forward+backward about 2.5x faster than
    ``F.dropout``'s bernoulli there); elsewhere, and under ``torch.compile`` (which cannot
    trace the in-place draw and generates its own fused dropout), it is ``F.dropout``."""
    if not training or p <= 0:
        return x
    if x.device.type == "cpu" and p < 1 and not torch.compiler.is_compiling():
        return _CPUDropout.apply(x, p)
    return F.dropout(x, p, True)


def add_dropout(x: torch.Tensor, y: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``x + dropout(y, p, training)``, the residual sum of a block's output ``y``. On the CPU
    it is one pass, ``x + y * mask / (1 - p)`` (:func:`torch.addcmul`), with the mask of
    :func:`dropout` (the same draws). The three passes of the product by the mask, the scaling
    and the sum took 1.3x (bfloat16) to 1.5x (float32) its time on a 3840 x 256 block output,
    and a training update 2-3% longer (bench/RESULTS.md)."""
    if not training or p <= 0:
        return x + y
    if y.device.type == "cpu" and p < 1 and not torch.compiler.is_compiling():
        return _CPUAddDropout.apply(x, y, p)
    return x + F.dropout(y, p, True)


def keep_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """A boolean mask of ``shape``, each element False with probability ``p`` rounded to a
    multiple of 2^-16 (within 7.7e-6 of ``p``).

    The CPU generator is sequential and costs about as much per draw whatever the width, so
    one 64-bit draw is split into four independent uniform 16-bit integers: a quarter of the
    draws of ``torch.rand(shape) >= p``, which is most of dropout's time on the CPU."""
    n = math.prod(shape)
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
    return words.view(torch.int16)[:n].view(shape) >= round(p * 65536) - 32768


def layers_to_run(layers: nn.ModuleList, layerdrop: float, training: bool) -> list[nn.Module]:
    """LayerDrop (Fan et al., 2019), as fairseq: in training, one uniform draw per layer and
    forward pass, and the layers whose draw is at most ``layerdrop`` are skipped (the residual
    stream goes on as it is). Outside training every layer runs."""
    if not training or layerdrop <= 0:
        return list(layers)
    draws = torch.empty(len(layers)).uniform_().tolist()
    return [layer for layer, u in zip(layers, draws) if u > layerdrop]


def run_layer(layer: nn.Module, recompute: bool, *args: Any) -> torch.Tensor:
    """``layer(*args)``; with ``recompute`` (``--checkpoint-activations``) and gradients being
    taken, through :func:`torch.utils.checkpoint.checkpoint`: the layer keeps only its inputs
    and runs again in the backward pass, with the random state of the first run (so the same
    dropout masks, hence the same gradients)."""
    if recompute and layer.training and torch.is_grad_enabled():
        return torch.utils.checkpoint.checkpoint(layer, *args, use_reentrant=False)
    return layer(*args)


def _kept(x: torch.Tensor, keep: torch.Tensor, scale: float) -> torch.Tensor:
    """``x`` where ``keep`` (uint8) is 1, times ``scale``; 0 elsewhere."""
    return x.mul(keep).mul_(scale)


class _CPUDropout(torch.autograd.Function):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``; the
    backward pass applies the same mask and scale to the gradient.

    The mask is kept as bytes (one per element) and multiplied in as ``uint8``: torch's CPU
    product of a float tensor and a ``bool`` one takes a slow element-by-element path (about
    3.5x the time of the ``uint8`` product, for the same bytes)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, p: float) -> torch.Tensor:
        keep = keep_mask(x.shape, p).view(torch.uint8)
        ctx.scale = 1.0 / (1.0 - p)
        ctx.save_for_backward(keep)
        return _kept(x, keep, ctx.scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (keep,) = ctx.saved_tensors
        return _kept(grad, keep, ctx.scale), None


class _CPUAddDropout(torch.autograd.Function):
    """``x + y * keep / (1 - p)``: :class:`_CPUDropout` of ``y`` and the sum in one pass; the
    gradient of ``x`` is the incoming one, that of ``y`` goes through the mask and scale."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, y: torch.Tensor, p: float) -> torch.Tensor:
        keep = keep_mask(y.shape, p).view(torch.uint8)
        ctx.scale, ctx.dtypes = 1.0 / (1.0 - p), (x.dtype, y.dtype)
        ctx.save_for_backward(keep)
        return torch.addcmul(x, y, keep, value=ctx.scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        (keep,) = ctx.saved_tensors
        x_dtype, y_dtype = ctx.dtypes
        return grad.to(x_dtype), _kept(grad.to(y_dtype), keep, ctx.scale), None


class _ResidualLayer(nn.Module):
    """What both layers share: residual blocks with a layer norm before the block (pre-norm)
    or after the sum (post-norm), and the position-wise feed-forward block."""

    dropout: float
    normalize_before: bool

    def _build_ffn(
        self, embed_dim: int, ffn_dim: int, activation_fn: str, activation_dropout: float
    ) -> None:
        self.fc1 = nn.Linear(embed_dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, embed_dim)
        self.activation = ACTIVATIONS[activation_fn]
        self.activation_dropout = activation_dropout

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        """``fc2(dropout(act(fc1(x))))``."""
        x = self.activation(self.fc1(x))
        return self.fc2(dropout(x, self.activation_dropout, self.training))

    def _residual(
        self,
        x: torch.Tensor,
        norm: nn.LayerNorm,
        block: Callable[[torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """``x + dropout(block(x))``, normalised by ``norm`` as the layer's norm placement says."""
        pre = self.normalize_before
        x = add_dropout(x, block(norm(x) if pre else x), self.dropout, self.training)
        return x if pre else norm(x)


class TransformerEncoderLayer(_ResidualLayer):
    """Self-attention then feed-forward, each in a residual block with a layer norm."""

    def __init__(
        self,
        embed_dim: int,
        ffn_dim: int,
        num_heads: int,
        *,
        dropout: float,
        attention_dropout: float,
        activation_dropout: float,
        activation_fn: str,
        normalize_before: bool,
    ) -> None:
        super().__init__()
        self.self_attn = SelfAttention(embed_dim, num_heads, attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(embed_dim)
        self._build_ffn(embed_dim, ffn_dim, activation_fn, activation_dropout)
        self.final_layer_norm = nn.LayerNorm(embed_dim)
        self.dropout = dropout
        self.normalize_before = normalize_before

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None,
        packing: Packing | None = None,
    ) -> torch.Tensor:
        """``x``: B x T x C, or its packed rows with the ``packing`` that places them;
        ``attn_mask``: B x 1 x 1 x T (True = real token) or ``None``."""
        x = self._residual(
            x,
            self.self_attn_layer_norm,
            lambda h: self.self_attn(h, attn_mask, packing=packing),
        )
        return self._residual(x, self.final_layer_norm, self._ffn)


class TransformerDecoderLayer(_ResidualLayer):
    """Causal self-attention, encoder-decoder attention (unless ``no_encoder_attn``, as in a
    language model) and feed-forward, each in a residual block with a layer norm."""

    def __init__(
        self,
        embed_dim: int,
        ffn_dim: int,
        num_heads: int,
        *,
        dropout: float,
        attention_dropout: float,
        activation_dropout: float,
        activation_fn: str,
        normalize_before: bool,
        encoder_embed_dim: int | None,
    ) -> None:
        super().__init__()
        self.self_attn = SelfAttention(embed_dim, num_heads, attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(embed_dim)
        if encoder_embed_dim is None:
            self.encoder_attn = None
            self.encoder_attn_layer_norm = None
        else:
            self.encoder_attn = EncoderDecoderAttention(
                embed_dim, encoder_embed_dim, num_heads, attention_dropout
            )
            self.encoder_attn_layer_norm = nn.LayerNorm(embed_dim)
        self._build_ffn(embed_dim, ffn_dim, activation_fn, activation_dropout)
        self.final_layer_norm = nn.LayerNorm(embed_dim)
        self.dropout = dropout
        self.normalize_before = normalize_before

    def forward(
        self,
        x: torch.Tensor,
        self_attn_mask: torch.Tensor | None,
        self_attn_causal: bool,
        encoder_out: torch.Tensor | None = None,
        encoder_attn_mask: torch.Tensor | None = None,
        incremental_state: IncrementalState | None = None,
        packing: Packing | None = None,
        encoder_packing: Packing | None = None,
    ) -> torch.Tensor:
        """``x``: B x T x C, or its packed rows with the ``packing`` that places them;
        ``encoder_out``: B x S x C, or its packed rows with ``encoder_packing``."""
        x = self._residual(
            x,
            self.self_attn_layer_norm,
            lambda h: self.self_attn(
                h, self_attn_mask, self_attn_causal, incremental_state, packing
            ),
        )
        if self.encoder_attn is not None:
            x = self._residual(
                x,
                self.encoder_attn_layer_norm,
                lambda h: self.encoder_attn(
                    h, encoder_out, encoder_attn_mask, incremental_state, packing, encoder_packing
                ),
            )
        return self._residual(x, self.final_layer_norm, self._ffn)
