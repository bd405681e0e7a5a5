"""Positional embeddings against fairseq's formula, written out here in float64."""

from __future__ import annotations

import math

import pytest
import torch

from seqcore_transformer import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEmbedding,
    make_positions,
)

PAD = 1


def expected_row(position: int, dim: int) -> list[float]:
    """fairseq: half = dim // 2, w_i = exp(-i ln(10000) / (half - 1)); the row is
    [sin(p w_0) .. sin(p w_{half-1}), cos(p w_0) .. cos(p w_{half-1})] (+ a 0 for odd dim)."""
    half = dim // 2
    w = [math.exp(-i * math.log(10000) / (half - 1)) for i in range(half)]
    row = [math.sin(position * wi) for wi in w] + [math.cos(position * wi) for wi in w]
    return row + [0.0] * (dim % 2)


@pytest.mark.parametrize("dim", [16, 15, 512])
def test_sinusoidal_values(dim):
    emb = SinusoidalPositionalEmbedding(dim, PAD, init_size=64)
    tokens = torch.tensor([[PAD, PAD, 5, 6, 7], [5, 6, 7, 8, 9]])
    out = emb(tokens, tokens.eq(PAD))
    assert out.shape == (2, 5, dim)
    # padding gets the zero row; positions count real tokens from padding_idx + 1
    assert out[0, :2].abs().max() == 0
    for row, positions in ((0, [None, None, 2, 3, 4]), (1, [2, 3, 4, 5, 6])):
        for t, p in enumerate(positions):
            if p is not None:
                want = torch.tensor(expected_row(p, dim), dtype=torch.float64)
                assert (out[row, t].double() - want).abs().max() < 1e-5


def test_sinusoidal_unpadded_and_incremental_slices():
    emb = SinusoidalPositionalEmbedding(8, PAD, init_size=4)
    tokens = torch.full((3, 10), 9)  # longer than the initial table: it grows
    full = emb(tokens, None)
    assert full.shape == (1, 10, 8)
    for t in range(10):
        want = torch.tensor(expected_row(PAD + 1 + t, 8), dtype=torch.float64)
        assert (full[0, t].double() - want).abs().max() < 1e-5
    assert torch.equal(emb(tokens, None, start=7), full[:, 7:])
    padded = tokens.clone()
    padded[0, :3] = PAD
    mask = padded.eq(PAD)
    assert torch.equal(emb(padded, mask, start=7), emb(padded, mask)[:, 7:])


def test_make_positions():
    tokens = torch.tensor([[PAD, PAD, 4, 4], [4, 4, 4, PAD]])
    assert make_positions(tokens.eq(PAD), PAD).tolist() == [[1, 1, 2, 3], [2, 3, 4, 1]]


def test_learned_positions_are_looked_up_by_position():
    emb = LearnedPositionalEmbedding(6, 4, PAD, "--max-target-positions")
    assert emb.weight.shape == (6 + PAD + 1, 4)
    assert emb.weight[PAD].abs().max() == 0
    tokens = torch.tensor([[PAD, 5, 5], [5, 5, 5]])
    out = emb(tokens, tokens.eq(PAD))
    assert torch.equal(out[0, 1], emb.weight[2]) and torch.equal(out[0, 0], emb.weight[PAD])
    assert torch.equal(out[1], emb.weight[2:5])
    assert torch.equal(emb(tokens[1:], None)[0], emb.weight[2:5])


def test_embeddings_are_scaled_by_sqrt_dim(helpers):
    """Encoder input = sqrt(d) * token embedding + sinusoidal position (no dropout in eval)."""
    model = helpers.build(helpers.tiny_config(encoder_layers=0)).eval()
    tokens = torch.tensor([[5, 6, 7]])
    out = model.encoder(tokens, None)["encoder_out"]
    table = torch.tensor([expected_row(p, 16) for p in (2, 3, 4)], dtype=torch.float32)
    want = model.encoder.embed_tokens.weight[5:8] * 4.0 + table
    assert (out[0] - want).abs().max() < 1e-5
    unscaled = helpers.build(helpers.tiny_config(encoder_layers=0, no_scale_embedding=True))
    unscaled.load_state_dict(model.state_dict())
    out = unscaled.eval().encoder(tokens, None)["encoder_out"]
    assert (out[0] - (model.encoder.embed_tokens.weight[5:8] + table)).abs().max() < 1e-5
