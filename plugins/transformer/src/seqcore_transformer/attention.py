"""Multi-head attention on :func:`torch.nn.functional.scaled_dot_product_attention`.

Two modules, one per use, so that neither needs a branch per call:

- :class:`SelfAttention` projects queries, keys and values with one fused ``3d x d`` matrix
  (the same parameter count as fairseq's three ``d x d`` ones: ``4(d^2 + d)`` with the output
  projection). During incremental decoding it appends the keys and values of the new positions
  to its cache.
- :class:`EncoderDecoderAttention` projects the encoder output into keys and values once per
  decoding run and caches them.

Caches hold ``B x H x T x head_dim`` tensors in the caller's ``incremental_state``: batch first, so
the core decoder's ``reorder_incremental_state`` (which reorders dimension 0 of every cached
tensor) is right for beam search as it is.

Masks are boolean (True = may attend) and built once per forward by the encoder or decoder, not
per layer; ``None`` when nothing needs masking.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.models import IncrementalStateMixin
from seqcore.models.incremental import IncrementalState


def _init_projection(weight: torch.Tensor, parts: int) -> None:
    """fairseq's initialisation of q/k/v projections: Xavier-uniform with gain 1/sqrt(2), each
    ``d x d_in`` block on its own (as if they were separate matrices)."""
    with torch.no_grad():
        for block in weight.chunk(parts, dim=0):
            nn.init.xavier_uniform_(block, gain=1 / math.sqrt(2))


def _init_output(proj: nn.Linear) -> None:
    nn.init.xavier_uniform_(proj.weight)
    nn.init.zeros_(proj.bias)


class Packing:
    """The real (non-padding) positions of a B x T batch, so that position-wise layers (layer
    norms, projections, feed-forward blocks) run on those rows only: about 8% of a training
    batch's target positions are padding in fairseq's batch order. Attention, which needs the
    B x T layout, unpacks its projections (zeros at the padding) and packs its output again.

    The packed row count is rounded up to a multiple of ``multiple`` with padding positions
    (computed like the others and ignored by the loss as all padding is): oneDNN, which runs
    the CPU's bfloat16 matrix products, builds a kernel for each new shape, and exact counts
    would give nearly every batch a shape of its own (a third more time per --bf16 update).
    """

    def __init__(self, padding_mask: torch.Tensor, multiple: int = 64) -> None:
        self.batch_shape = padding_mask.shape
        keep = (~padding_mask).flatten()
        short = -int(keep.sum()) % multiple
        if short:
            keep[(~keep).nonzero().squeeze(1)[:short]] = True
        self.index = keep.nonzero().squeeze(1)
        self.keeps_everything = len(self.index) == keep.numel()  # then packing only costs

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """B x T x C -> N x C, the packed positions in order."""
        return x.flatten(0, 1).index_select(0, self.index)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """N x C -> B x T x C, zeros at the positions left out."""
        full = _Scatter.apply(x, self.index, self.batch_shape.numel())
        return full.view(*self.batch_shape, x.size(-1))


class _Scatter(torch.autograd.Function):
    """Rows of ``x`` placed at ``index`` of a zero matrix with ``rows`` rows; the gradient is
    the incoming one's rows at ``index``. (``index_copy`` would do the same but keeps ``x`` for
    its backward pass, which needs only the index: a packed q/k/v projection per layer.)"""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, index: torch.Tensor, rows: int) -> torch.Tensor:
        ctx.save_for_backward(index)
        return x.new_zeros(rows, x.size(-1)).index_copy_(0, index, x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (index,) = ctx.saved_tensors
        return grad.index_select(0, index), None, None


def _project_out(proj: nn.Linear, y: torch.Tensor, packing: Packing | None) -> torch.Tensor:
    """The output projection of attention's B x T x C result, packed when the input was. It
    projects the padding rows too: packing first would keep a second copy of ``y`` for the
    backward pass (attention keeps ``y`` itself), 4 MiB per block of a 4k-token batch."""
    out = proj(y)
    return out if packing is None else packing.pack(out)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None,
    dropout_p: float,
    is_causal: bool = False,
) -> torch.Tensor:
    """Scaled dot-product attention. On the CPU, half-precision inputs (under ``--bf16`` or
    ``--fp16`` autocast) are attended in float32: torch's CPU flash-attention backward is several
    times slower in bfloat16 than in float32, and attention is a small share of the FLOPs."""
    if q.device.type == "cpu" and (
        q.dtype in (torch.bfloat16, torch.float16) or torch.is_autocast_enabled("cpu")
    ):
        dtype = q.dtype
        with torch.autocast("cpu", enabled=False):  # autocast would cast back to half
            y = F.scaled_dot_product_attention(
                q.float(),
                k.float(),
                v.float(),
                attn_mask=attn_mask,
                dropout_p=dropout_p,
                is_causal=is_causal,
            )
        return y.to(dtype)
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal
    )


class SelfAttention(IncrementalStateMixin, nn.Module):
    """Multi-head self-attention with a fused input projection and a key/value cache."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.in_proj = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        _init_projection(self.in_proj.weight, 3)
        _init_output(self.out_proj)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
        incremental_state: IncrementalState | None = None,
        packing: Packing | None = None,
    ) -> torch.Tensor:
        """``x``: B x T x C (the new positions only, when decoding incrementally), or N x C
        with the ``packing`` that places its rows."""
        qkv = self.in_proj(x)
        if packing is not None:
            qkv = packing.unpack(qkv)
        bsz, length, dim = qkv.size(0), qkv.size(1), self.embed_dim
        qkv = qkv.view(bsz, length, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.transpose(1, 3).unbind(2)  # each B x H x T x head_dim
        if incremental_state is not None:
            cache = self.get_incremental_state(incremental_state, "kv")
            if cache is not None:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            self.set_incremental_state(incremental_state, "kv", {"k": k, "v": v})
        y = attention(q, k, v, attn_mask, self.dropout if self.training else 0.0, is_causal)
        return _project_out(self.out_proj, y.transpose(1, 2).reshape(bsz, length, dim), packing)


class EncoderDecoderAttention(IncrementalStateMixin, nn.Module):
    """Attention from decoder states to the encoder output (``kdim`` wide)."""

    def __init__(self, embed_dim: int, kdim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.kv_proj = nn.Linear(kdim, 2 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        _init_projection(self.q_proj.weight, 1)
        _init_projection(self.kv_proj.weight, 2)
        _init_output(self.out_proj)

    def _keys_values(self, encoder_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bsz, src_len, _ = encoder_out.shape
        kv = self.kv_proj(encoder_out).view(bsz, src_len, 2, self.num_heads, self.head_dim)
        k, v = kv.transpose(1, 3).unbind(2)
        return k, v

    def forward(
        self,
        x: torch.Tensor,
        encoder_out: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        incremental_state: IncrementalState | None = None,
        packing: Packing | None = None,
    ) -> torch.Tensor:
        """``x``: B x T x C, or N x C with the ``packing`` that places its rows;
        ``encoder_out``: B x S x kdim; ``attn_mask``: B x 1 x 1 x S."""
        cache = self.get_incremental_state(incremental_state, "kv")
        if cache is not None:
            k, v = cache["k"], cache["v"]
        else:
            k, v = self._keys_values(encoder_out)
            self.set_incremental_state(incremental_state, "kv", {"k": k, "v": v})
        q = self.q_proj(x)
        if packing is not None:
            q = packing.unpack(q)
        bsz, length, dim = q.shape
        q = q.view(bsz, length, self.num_heads, self.head_dim).transpose(1, 2)
        y = attention(q, k, v, attn_mask, self.dropout if self.training else 0.0)
        return _project_out(self.out_proj, y.transpose(1, 2).reshape(bsz, length, dim), packing)
