"""Our layers against torch's own ``nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer``
with the same weights, in float64 (an independent implementation of the same computation)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seqcore_transformer.layers import TransformerDecoderLayer, TransformerEncoderLayer

D, H, F = 16, 4, 32
KW = dict(dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)


def copy_linear(dst: nn.Linear, weight: torch.Tensor, bias: torch.Tensor) -> None:
    with torch.no_grad():
        dst.weight.copy_(weight)
        dst.bias.copy_(bias)


def copy_norm(dst: nn.LayerNorm, src: nn.LayerNorm) -> None:
    with torch.no_grad():
        dst.weight.copy_(src.weight)
        dst.bias.copy_(src.bias)


def randomize(module: nn.Module, gen: torch.Generator) -> None:
    """Random values everywhere (layer norms included), so that nothing is trivially equal."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.3)


@pytest.mark.parametrize("normalize_before", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(normalize_before, activation):
    gen = torch.Generator().manual_seed(0)
    ours = TransformerEncoderLayer(
        D, F, H, activation_fn=activation, normalize_before=normalize_before, **KW
    ).double()
    randomize(ours, gen)
    ref = nn.TransformerEncoderLayer(
        D, H, F, 0.0, activation, batch_first=True, norm_first=normalize_before
    ).double()
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(ours.self_attn.in_proj.weight)
        ref.self_attn.in_proj_bias.copy_(ours.self_attn.in_proj.bias)
    copy_linear(
        ref.self_attn.out_proj, ours.self_attn.out_proj.weight, ours.self_attn.out_proj.bias
    )
    copy_linear(ref.linear1, ours.fc1.weight, ours.fc1.bias)
    copy_linear(ref.linear2, ours.fc2.weight, ours.fc2.bias)
    copy_norm(ref.norm1, ours.self_attn_layer_norm)
    copy_norm(ref.norm2, ours.final_layer_norm)
    x = torch.randn(3, 6, D, generator=gen, dtype=torch.float64)
    padding = torch.zeros(3, 6, dtype=torch.bool)
    padding[1, :2] = True
    ours.eval(), ref.eval()
    with torch.no_grad():
        got = ours(x, ~padding[:, None, None, :])
        want = ref(x, src_key_padding_mask=padding)
    real = ~padding
    assert (got - want)[real].abs().max() < 1e-10


@pytest.mark.parametrize("normalize_before", [False, True])
def test_decoder_layer_matches_torch(normalize_before):
    gen = torch.Generator().manual_seed(1)
    ours = TransformerDecoderLayer(
        D,
        F,
        H,
        activation_fn="relu",
        normalize_before=normalize_before,
        encoder_embed_dim=D,
        **KW,
    ).double()
    randomize(ours, gen)
    ref = nn.TransformerDecoderLayer(
        D, H, F, 0.0, batch_first=True, norm_first=normalize_before
    ).double()
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(ours.self_attn.in_proj.weight)
        ref.self_attn.in_proj_bias.copy_(ours.self_attn.in_proj.bias)
        cross = ours.encoder_attn
        ref.multihead_attn.in_proj_weight.copy_(
            torch.cat([cross.q_proj.weight, cross.kv_proj.weight])
        )
        ref.multihead_attn.in_proj_bias.copy_(torch.cat([cross.q_proj.bias, cross.kv_proj.bias]))
    copy_linear(
        ref.self_attn.out_proj, ours.self_attn.out_proj.weight, ours.self_attn.out_proj.bias
    )
    copy_linear(ref.multihead_attn.out_proj, cross.out_proj.weight, cross.out_proj.bias)
    copy_linear(ref.linear1, ours.fc1.weight, ours.fc1.bias)
    copy_linear(ref.linear2, ours.fc2.weight, ours.fc2.bias)
    copy_norm(ref.norm1, ours.self_attn_layer_norm)
    copy_norm(ref.norm2, ours.encoder_attn_layer_norm)
    copy_norm(ref.norm3, ours.final_layer_norm)
    x = torch.randn(2, 5, D, generator=gen, dtype=torch.float64)
    memory = torch.randn(2, 7, D, generator=gen, dtype=torch.float64)
    mem_padding = torch.zeros(2, 7, dtype=torch.bool)
    mem_padding[0, :3] = True
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    ours.eval(), ref.eval()
    with torch.no_grad():
        got = ours(x, None, True, memory, ~mem_padding[:, None, None, :])
        want = ref(x, memory, tgt_mask=causal, memory_key_padding_mask=mem_padding)
    assert (got - want).abs().max() < 1e-10


def test_initialisation(helpers):
    """Output projection N(0, d^-0.5) without bias, token embeddings N(0, d^-0.5) with a zero
    padding row, as fairseq initialises them."""
    torch.manual_seed(0)
    model = helpers.build(
        helpers.tiny_config(decoder_embed_dim=64, decoder_attention_heads=4), 40, 4000
    )
    out = model.decoder.output_projection
    assert out.bias is None and out.weight.shape == (4000, 64)
    assert abs(out.weight.std().item() - 64**-0.5) < 0.01
    assert abs(out.weight.mean().item()) < 0.01
    emb = model.decoder.embed_tokens.weight
    assert emb[1].abs().max() == 0
    assert abs(emb[2:].std().item() - 64**-0.5) < 0.01
