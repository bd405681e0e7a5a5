"""The attention layer against a direct float64 recomputation of its formula."""

import math

import torch

from seqcore_lstm import AttentionLayer


def reference_attention(w_in, w_out, hidden, source, mask):
    """Per sentence and source position, with plain float64 arithmetic:
    q = W_in h; s_j = <source_j, q>; a = softmax over non-padding j; c = sum_j a_j source_j;
    out = tanh(W_out [c; h])."""
    bsz, srclen, _ = source.shape
    outs, weights = [], []
    for b in range(bsz):
        q = w_in @ hidden[b]
        scores = [float(source[b, j] @ q) for j in range(srclen)]
        kept = [j for j in range(srclen) if not mask[b, j]]
        top = max(scores[j] for j in kept)
        exp = [math.exp(scores[j] - top) if j in kept else 0.0 for j in range(srclen)]
        total = sum(exp)
        a = torch.tensor([e / total for e in exp], dtype=torch.float64)
        context = sum(a[j] * source[b, j] for j in range(srclen))
        outs.append(torch.tanh(w_out @ torch.cat((context, hidden[b]))))
        weights.append(a)
    return torch.stack(outs), torch.stack(weights)


def test_attention_layer_matches_float64_recomputation():
    torch.manual_seed(0)
    bsz, srclen, input_dim, source_dim, output_dim = 3, 5, 6, 4, 7
    layer = AttentionLayer(input_dim, source_dim, output_dim)
    assert layer.input_proj.bias is None and layer.output_proj.bias is None

    hidden = torch.randn(bsz, input_dim)
    source = torch.randn(bsz, srclen, source_dim)
    mask = torch.tensor(
        [
            [False] * 5,
            [False, False, False, True, True],
            [False, True, True, True, True],
        ]
    )
    out, weights = layer(hidden, source, mask)
    assert out.shape == (bsz, output_dim) and weights.shape == (bsz, srclen)

    ref_out, ref_weights = reference_attention(
        layer.input_proj.weight.detach().double(),
        layer.output_proj.weight.detach().double(),
        hidden.double(),
        source.double(),
        mask,
    )
    assert (out.double() - ref_out).abs().max().item() < 1e-6
    assert (weights.double() - ref_weights).abs().max().item() < 1e-6
    assert torch.all(weights[mask] == 0)

    # in float64 the layer and the recomputation agree to rounding
    layer64 = layer.double()
    out64, weights64 = layer64(hidden.double(), source.double(), mask)
    assert (out64 - ref_out).abs().max().item() < 1e-12
    assert (weights64 - ref_weights).abs().max().item() < 1e-12


def test_attention_layer_without_mask_attends_everywhere():
    torch.manual_seed(1)
    layer = AttentionLayer(4, 4, 4)
    hidden, source = torch.randn(2, 4), torch.randn(2, 3, 4)
    out_none, w_none = layer(hidden, source, None)
    out_mask, w_mask = layer(hidden, source, torch.zeros(2, 3, dtype=torch.bool))
    torch.testing.assert_close(out_none, out_mask)
    torch.testing.assert_close(w_none, w_mask)
    assert torch.all(w_none > 0)
