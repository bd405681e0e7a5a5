"""Multi-head attention on :func:`torch.nn.functional.scaled_dot_product_attention`.

Two modules, one per use, so that neither needs a branch per call:

- :class:`SelfAttention` projects queries, keys and values with one fused ``3d x d`` matrix
  (the same parameter count as fairseq's three ``d x d`` ones: ``4(d^2 + d)`` with the output
  projection). During incremental decoding it appends the keys and values of the new positions
  to its cache.
- :class:`EncoderDecoderAttention` projects the encoder output into keys and values once per
  decoding run and caches them.

Caches live in the caller's ``incremental_state``, and each module reorders its own
(``reorder_cache``) as beam search moves hypotheses:

- self-attention keeps its keys and values in buffers allocated for several positions at once
  and written in place, laid out batch first (``B x capacity x H x head_dim``): reordering the
  filled positions is one ``index_select`` of rows into a second buffer of the same shape
  (each row's filled positions one contiguous block: twice as fast as the time-first layout's
  ``B`` blocks per position; concatenating each step and reordering the result copied the
  whole cache twice per step);
- encoder-decoder attention keeps the keys and values of the encoder output: a function of
  that output alone, so they follow it rather than the orders given. A reorder only notes the
  order; the next step takes the keys and values in the orders noted only if the caller passes
  a reordered encoder output (another tensor), and otherwise keeps them as they are. Beam
  search reorders the encoder output only when sentences leave the batch (every hypothesis of
  a sentence has the same one), so most steps copy nothing here. Where the order noted repeats
  each row for a run of consecutive rows (a sentence's beams), one row is kept per run and the
  run's rows attend to it together, as one row of several query positions: ``beam`` times
  less to store and read, and one attention call of ``beam`` queries instead of ``beam`` of one.

On the CPU, half precision attends in float32 in training only (:func:`attends_in_float32`):
decoding attends to its caches in the model's dtype, with no cast of the cache per step.

Masks are boolean (True = may attend) and built once per forward by the encoder or decoder, not
per layer; ``None`` when nothing needs masking.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.models import IncrementalState, IncrementalStateMixin


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
    """The rows that position-wise layers (layer norms, projections, feed-forward blocks) run on
    for a B x T batch: its real (non-padding) positions in order, then zero rows up to a multiple
    of ``multiple``. Attention, which needs the B x T layout, unpacks its projections (zeros at
    the padding) and packs its output again.

    Two reasons. Padding: about 8% of a training batch's target positions are padding in
    fairseq's batch order, and no work is spent on them. Shapes: oneDNN, which runs the CPU's
    bfloat16 matrix products, builds and caches kernels for every new row count (about 12 ms for
    a layer's forward and backward products, and memory that stays in its cache); with the count
    a multiple of 64, a --bf16 run meets a few dozen counts and soon builds no more kernels, where
    exact counts (B x T) would give nearly every batch new ones. (bench/RESULTS.md: the bench's
    ``seqcore train --bf16`` 13,006 -> 13,657 wps, peak RSS 1,823 -> 1,212 MiB, when the encoder
    and the other products were rounded too.)

    ``padding_mask`` (B x T, True at padding) may be ``None`` for a batch without padding; then
    packing is a view when B x T is already a multiple of ``multiple``.
    """

    def __init__(
        self,
        padding_mask: torch.Tensor | None,
        batch_shape: torch.Size,
        device: torch.device,
        multiple: int = 64,
    ) -> None:
        self.batch_shape = torch.Size(batch_shape)
        positions = self.batch_shape.numel()
        if padding_mask is None:
            self.index = torch.arange(positions, device=device)
        else:
            self.index = (~padding_mask).flatten().nonzero().squeeze(1)
        self.rows = -(-len(self.index) // multiple) * multiple
        self.is_view = padding_mask is None and self.rows == positions

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """B x T x C -> rows x C: the real positions in order, then zero rows."""
        x = x.flatten(0, 1)
        return x if self.is_view else _MoveRows.apply(x, self.index, self.rows, True)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """rows x C -> B x T x C, zeros at the padding positions."""
        if not self.is_view:
            x = _MoveRows.apply(x, self.index, self.batch_shape.numel(), False)
        return x.view(*self.batch_shape, x.size(-1))


def _gather_rows(x: torch.Tensor, index: torch.Tensor, rows: int) -> torch.Tensor:
    """``x``'s rows at ``index``, then zero rows up to ``rows`` in all."""
    out = x.new_empty(rows, x.size(-1))
    torch.index_select(x, 0, index, out=out[: len(index)])
    out[len(index) :].zero_()
    return out


def _scatter_rows(x: torch.Tensor, index: torch.Tensor, rows: int) -> torch.Tensor:
    """The first ``len(index)`` rows of ``x`` placed at ``index`` of a zero matrix of ``rows``
    rows."""
    return x.new_zeros(rows, x.size(-1)).index_copy_(0, index, x[: len(index)])


class _MoveRows(torch.autograd.Function):
    """:func:`_gather_rows` (``gather``) or :func:`_scatter_rows`, whose gradient is the other
    one of the incoming gradient. It keeps only the index for the backward pass
    (``index_copy`` would keep its input too: a packed q/k/v projection per layer)."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, index: torch.Tensor, rows: int, gather: bool
    ) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.gather, ctx.input_rows = gather, x.size(0)
        return (_gather_rows if gather else _scatter_rows)(x, index, rows)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        (index,) = ctx.saved_tensors
        move_back = _scatter_rows if ctx.gather else _gather_rows
        return move_back(grad, index, ctx.input_rows), None, None, None


def _project_out(
    proj: nn.Linear, y: torch.Tensor, packing: Packing | None, attention_keeps_y: bool
) -> torch.Tensor:
    """The output projection of attention's B x T x C result ``y``, packed when the input was.

    Where attention's backward pass keeps ``y`` itself (``attention_keeps_y``), ``y`` is
    projected first and the result packed: packing first would keep a second copy of ``y`` for
    the projection's backward pass, 4 MiB per block of a 4k-token float32 batch. Where ``y`` is
    a cast copy that only the projection keeps (half precision on the CPU), ``y`` is packed
    first: the packed copy replaces it, and the product gets the packed row count."""
    if packing is None:
        return proj(y)
    if attention_keeps_y:
        return packing.pack(proj(y))
    return proj(packing.pack(y))


def is_cpu_half_precision(x: torch.Tensor) -> bool:
    """Whether ``x`` is on the CPU in half precision, or under the CPU's autocast (``--bf16``,
    ``--fp16``, ``--amp``)."""
    return x.device.type == "cpu" and (
        x.dtype in (torch.bfloat16, torch.float16) or torch.is_autocast_enabled("cpu")
    )


def attends_in_float32(q: torch.Tensor) -> bool:
    """Whether :func:`attention` attends to queries ``q`` in float32: under CPU half precision
    while gradients are recorded (training), where torch's CPU flash-attention backward is
    several times slower in bfloat16 than in float32. Without gradients (decoding, validation,
    scoring) half precision attends as it is: the forward pass alone is as fast or faster in
    bfloat16 (2-3x for one sentence's beams), and casting a decoder's cached keys and values
    every step cost more than the attention itself."""
    return torch.is_grad_enabled() and is_cpu_half_precision(q)


def attention_keeps_output(q: torch.Tensor) -> bool:
    """Whether the tensor :func:`attention` returns for queries ``q`` is the one its backward
    pass keeps: not where :func:`attention` attends in float32 and returns a cast copy."""
    return not attends_in_float32(q)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None,
    dropout_p: float,
    is_causal: bool = False,
) -> torch.Tensor:
    """Scaled dot-product attention, B x H x T x head_dim. In training on the CPU,
    half-precision inputs (under ``--bf16`` or ``--fp16`` autocast) are attended in float32
    (:func:`attends_in_float32`): attention is a small share of the FLOPs. The result is cast
    back laid out as B x T x H x head_dim, so that the caller's merge of the heads is a view,
    not a second copy."""
    if attends_in_float32(q):
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
        return y.transpose(1, 2).to(dtype, memory_format=torch.contiguous_format).transpose(1, 2)
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
        """``x``: B x T x C (the new positions only, when decoding incrementally), or its packed
        rows with the ``packing`` that places them."""
        qkv = self.in_proj(x)
        if packing is not None:
            qkv = packing.unpack(qkv)
        bsz, length, dim = qkv.size(0), qkv.size(1), self.embed_dim
        qkv = qkv.view(bsz, length, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.transpose(1, 3).unbind(2)  # each B x H x T x head_dim
        if incremental_state is not None:
            k, v = self._cached(incremental_state, k, v)
        y = attention(q, k, v, attn_mask, self.dropout if self.training else 0.0, is_causal)
        y = y.transpose(1, 2).reshape(bsz, length, dim)
        return _project_out(self.out_proj, y, packing, attention_keeps_output(q))

    def _cached(
        self, incremental_state: IncrementalState, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new positions' keys and values (B x H x new x head_dim) into the cache and
        return all the cached ones, B x H x T x head_dim (views of the batch-first buffers)."""
        cache = self.get_incremental_state(incremental_state, "kv")
        k, v = k.transpose(1, 2), v.transpose(1, 2)  # B x new x H x hd
        if cache is None:
            cache = {"length": 0, "k": _buffer(k, 0), "v": _buffer(v, 0), "spare": None}
            self.set_incremental_state(incremental_state, "kv", cache)
        start = cache["length"]
        end = start + k.size(1)
        if end > cache["k"].size(1):  # grow, doubling: a handful of copies per decoding run
            for name in ("k", "v"):
                grown = _buffer(cache[name], 2 * end)
                grown[:, :start] = cache[name][:, :start]
                cache[name] = grown
            cache["spare"] = None
        cache["k"][:, start:end] = k
        cache["v"][:, start:end] = v
        cache["length"] = end
        return cache["k"][:, :end].transpose(1, 2), cache["v"][:, :end].transpose(1, 2)

    def reorder_cache(self, incremental_state: IncrementalState, new_order: torch.Tensor) -> None:
        """Select (and repeat) rows ``new_order`` of the cached keys and values: one
        ``index_select`` of the filled positions into the spare buffers, which then swap."""
        cache = self.get_incremental_state(incremental_state, "kv")
        if cache is None:
            return
        length, rows = cache["length"], new_order.numel()
        spare = cache["spare"]
        if spare is None or spare[0].size(0) != rows:
            spare = tuple(_buffer(cache[name], cache[name].size(1), rows) for name in ("k", "v"))
        for name, target in zip(("k", "v"), spare):
            torch.index_select(cache[name][:, :length], 0, new_order, out=target[:, :length])
        old = (cache["k"], cache["v"])
        cache["k"], cache["v"] = spare
        cache["spare"] = old if old[0].size(0) == rows else None


def _buffer(like: torch.Tensor, positions: int, rows: int | None = None) -> torch.Tensor:
    """An empty batch-first buffer of keys or values for ``positions`` (at least 8) positions
    and ``rows`` rows (``like``'s by default), of the device and ``H x head_dim`` of ``like``,
    itself batch-first (``B x T x H x head_dim``)."""
    rows = like.size(0) if rows is None else rows
    return like.new_empty(rows, max(positions, 8), *like.shape[2:])


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

    def _keys_values(
        self, encoder_out: torch.Tensor, encoder_packing: Packing | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values, each B x H x S x head_dim, of ``encoder_out`` (B x S x kdim, or its
        packed rows with the ``encoder_packing`` that places them)."""
        kv = self.kv_proj(encoder_out)
        if encoder_packing is not None:
            kv = encoder_packing.unpack(kv)
        bsz, src_len, _ = kv.shape
        k, v = kv.view(bsz, src_len, 2, self.num_heads, self.head_dim).transpose(1, 3).unbind(2)
        return k, v

    def forward(
        self,
        x: torch.Tensor,
        encoder_out: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        incremental_state: IncrementalState | None = None,
        packing: Packing | None = None,
        encoder_packing: Packing | None = None,
    ) -> torch.Tensor:
        """``x``: B x T x C, or its packed rows with the ``packing`` that places them;
        ``encoder_out``: B x S x kdim, or its packed rows with ``encoder_packing``;
        ``attn_mask``: B x 1 x 1 x S."""
        if incremental_state is None:
            (k, v), group = self._keys_values(encoder_out, encoder_packing), 1
        else:
            k, v, group = self._cached_keys_values(incremental_state, encoder_out, encoder_packing)
        q = self.q_proj(x)
        if packing is not None:
            q = packing.unpack(q)
        bsz, length, dim = q.shape
        if bsz != k.size(0) * group:
            raise ValueError(
                f"{bsz} decoder rows for {k.size(0) * group} encoder rows: reorder the encoder "
                f"output (reorder_encoder_out) in the orders given to reorder_incremental_state"
            )
        # the `group` consecutive rows that share one row of keys and values attend as one row
        # of `group * length` query positions
        q = q.view(bsz // group, group * length, self.num_heads, self.head_dim).transpose(1, 2)
        if attn_mask is not None and group > 1:
            attn_mask = attn_mask[::group]
        y = attention(q, k, v, attn_mask, self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(bsz, length, dim)
        return _project_out(self.out_proj, y, packing, attention_keeps_output(q))

    def _cached_keys_values(
        self,
        incremental_state: IncrementalState,
        encoder_out: torch.Tensor,
        encoder_packing: Packing | None,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The keys and values of ``encoder_out`` and the number of its consecutive rows that
        share each of their rows: cached while ``encoder_out`` is the tensor they were computed
        from; for a new one (reordered by the caller), the cached ones taken in the orders given
        since (see the module), or computed again when none was."""
        cache = self.get_incremental_state(incremental_state, "kv")
        if cache is not None and cache["source"] is not encoder_out:
            cache = _follow_order(cache, encoder_out)
            self.set_incremental_state(incremental_state, "kv", cache)
        if cache is None:
            k, v = self._keys_values(encoder_out, encoder_packing)
            cache = {"k": k, "v": v, "group": 1, "source": encoder_out, "order": None}
            self.set_incremental_state(incremental_state, "kv", cache)
        return cache["k"], cache["v"], cache["group"]

    def reorder_cache(self, incremental_state: IncrementalState, new_order: torch.Tensor) -> None:
        """Note the new order; the keys and values follow it only if the caller reorders the
        encoder output too (see :meth:`_cached_keys_values`)."""
        cache = self.get_incremental_state(incremental_state, "kv")
        if cache is not None:
            order = cache["order"]
            if order is None:  # each row of keys and values serves `group` consecutive rows
                rows = torch.arange(cache["k"].size(0), device=new_order.device)
                order = rows.repeat_interleave(cache["group"])
            cache["order"] = order.index_select(0, new_order)


def _follow_order(cache: dict[str, Any], encoder_out: torch.Tensor) -> dict[str, Any] | None:
    """The cache of encoder-decoder attention for ``encoder_out``, the output its keys and
    values were computed from taken in the order noted (``None`` when no order was noted for
    as many rows). Where the order repeats each row for consecutive rows, as beam search's does
    (every beam of a sentence has the sentence's encoder output), the keys and values keep one
    row per repeated row and the rows attend in groups: ``beam`` times less to store and read."""
    order = cache["order"]
    if order is None or order.numel() != encoder_out.size(0):
        return None
    group = int(order.eq(order[0]).sum())
    runs = order.view(-1, group) if order.numel() % group == 0 else None
    if runs is None or not torch.equal(runs, runs[:, :1].expand_as(runs)):
        group, rows = 1, order
    else:
        rows = runs[:, 0]
    k, v = cache["k"], cache["v"]
    unchanged = torch.arange(k.size(0), device=rows.device)
    if rows.numel() != k.size(0) or not torch.equal(rows, unchanged):
        k, v = k.index_select(0, rows), v.index_select(0, rows)
    return {"k": k, "v": v, "group": group, "source": encoder_out, "order": None}
