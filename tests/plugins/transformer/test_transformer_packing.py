"""The decoder runs its position-wise layers on the real target positions only (padding packed
out): real positions' outputs and every parameter's gradient equal those of each target
computed alone, with no padding at all (float64)."""

import functools

import pytest
import torch

from seqcore_transformer import transformer
from seqcore_transformer.attention import Packing


def test_pack_and_unpack_place_rows():
    mask = torch.tensor([[False, False, True], [False, True, True]])
    packing = Packing(mask, multiple=1)
    x = torch.arange(6.0).view(2, 3, 1)
    packed = packing.pack(x)
    assert packed.flatten().tolist() == [0.0, 1.0, 3.0]
    assert packing.unpack(packed).flatten().tolist() == [0.0, 1.0, 0.0, 3.0, 0.0, 0.0]
    rows = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(packing.unpack, (rows,))
    full = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(packing.pack, (full,))


def test_packed_rows_are_rounded_up_with_padding_positions():
    mask = torch.zeros(4, 10, dtype=torch.bool)
    mask[1, 3:] = mask[2, 5:] = mask[3, 1:] = True  # 19 real positions, 21 padding
    # 24 rows: the real ones and the first 5 padding positions (13 to 17, in row 1)
    assert Packing(mask, multiple=8).index.tolist() == [*range(18), 20, 21, 22, 23, 24, 30]
    assert len(Packing(mask, multiple=64).index) == 40  # not more rows than there are
    assert Packing(mask, multiple=64).keeps_everything
    assert len(Packing(mask, multiple=1).index) == 19
    assert not Packing(mask, multiple=1).keeps_everything


@pytest.mark.parametrize("multiple", [1, 4])
@pytest.mark.parametrize("normalize_before", [False, True])
def test_padded_batch_equals_each_target_alone_forward_and_gradients(
    helpers, monkeypatch, normalize_before, multiple
):
    # rows rounded to 64 would take in every position of so small a batch
    monkeypatch.setattr(transformer, "Packing", functools.partial(Packing, multiple=multiple))
    gen = torch.Generator().manual_seed(11)
    cfg = helpers.tiny_config(
        dropout=0.0,
        encoder_normalize_before=normalize_before,
        decoder_normalize_before=normalize_before,
    )
    model = helpers.build(cfg).double().train()
    src = helpers.random_tokens(gen, 3, 5, 40)
    prev = helpers.random_tokens(gen, 3, 7, 48)
    lengths = [7, 2, 5]
    for i, n in enumerate(lengths):
        prev[i, n:] = 1
    weights = torch.randn(3, 7, 48, generator=gen, dtype=torch.float64)

    def loss_of(logits, rows):
        return sum((logits[j, :n] * weights[i, :n]).sum() for j, (i, n) in enumerate(rows))

    batched, _ = model(src, None, prev)
    loss_of(batched, list(enumerate(lengths))).backward()
    batched_grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    assert batched.dtype == torch.float64

    model.zero_grad()
    alone_logits = []
    for i, n in enumerate(lengths):
        logits, _ = model(src[i : i + 1], None, prev[i : i + 1, :n])
        loss_of(logits, [(i, n)]).backward()
        alone_logits.append(logits[0])
    for i, n in enumerate(lengths):
        torch.testing.assert_close(batched[i, :n], alone_logits[i], rtol=1e-10, atol=1e-10)
    for name, p in model.named_parameters():
        torch.testing.assert_close(batched_grads[name], p.grad, rtol=1e-9, atol=1e-10, msg=name)
