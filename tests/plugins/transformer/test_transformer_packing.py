"""The decoder runs its position-wise layers on the real target positions only (padding packed
out): real positions' outputs and every parameter's gradient equal those of each target
computed alone, with no padding at all (float64)."""

import functools

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seqcore_transformer import attention as attention_module
from seqcore_transformer import transformer
from seqcore_transformer.attention import Packing


def test_pack_and_unpack_place_rows():
    mask = torch.tensor([[False, False, True], [False, True, True]])
    packing = Packing(mask, mask.shape, mask.device, multiple=1)
    x = torch.arange(6.0).view(2, 3, 1)
    packed = packing.pack(x)
    assert packed.flatten().tolist() == [0.0, 1.0, 3.0]
    assert packing.unpack(packed).flatten().tolist() == [0.0, 1.0, 0.0, 3.0, 0.0, 0.0]
    rows = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(packing.unpack, (rows,))
    full = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(packing.pack, (full,))


def test_packed_rows_are_the_real_positions_then_zero_rows_to_a_multiple():
    mask = torch.zeros(4, 10, dtype=torch.bool)
    mask[1, 3:] = mask[2, 5:] = mask[3, 1:] = True  # 19 real positions, 21 padding
    packing = Packing(mask, mask.shape, mask.device, multiple=8)
    assert packing.index.tolist() == [*range(13), 20, 21, 22, 23, 24, 30]
    assert packing.rows == 24
    x = torch.randn(4, 10, 3, dtype=torch.float64, requires_grad=True)
    packed = packing.pack(x)
    assert packed.shape == (24, 3)
    assert torch.equal(packed[:19], x.flatten(0, 1)[packing.index])
    assert not packed[19:].any()
    assert torch.equal(packing.unpack(packed), x.masked_fill(mask.unsqueeze(-1), 0.0))
    assert torch.autograd.gradcheck(packing.pack, (x,))
    rows = torch.randn(24, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(packing.unpack, (rows,))
    # more rows than the batch has positions: 64 for 40 positions
    assert Packing(mask, mask.shape, mask.device, multiple=64).pack(x).shape == (64, 3)


def test_a_batch_without_padding_packs_as_a_view_when_its_size_is_a_multiple():
    x = torch.randn(4, 16, 3)
    exact = Packing(None, x.shape[:2], x.device, multiple=64)
    assert exact.is_view and exact.pack(x).data_ptr() == x.data_ptr()
    assert torch.equal(exact.unpack(exact.pack(x)), x)
    short = Packing(None, (4, 15), x.device, multiple=64)
    assert not short.is_view
    assert short.pack(x[:, :15]).shape == (64, 3)
    assert torch.equal(short.unpack(short.pack(x[:, :15])), x[:, :15])


@pytest.mark.parametrize(
    ("multiple", "rounded", "attention_keeps_output"),
    [(1, False, True), (4, False, True), (8, True, True), (8, True, False)],
)
@pytest.mark.parametrize("normalize_before", [False, True])
def test_padded_batch_equals_each_target_alone_forward_and_gradients(
    helpers, monkeypatch, normalize_before, multiple, rounded, attention_keeps_output
):
    # rows rounded to 64 would take in every position of so small a batch
    monkeypatch.setattr(transformer, "Packing", functools.partial(Packing, multiple=multiple))
    # ``rounded``: what half precision on the CPU takes (the encoder, the encoder output's
    # projections and the output layer on packed rows too); float64 here, so that the result
    # can be held to each target computed alone. ``attention_keeps_output`` False: attention's
    # output is packed before its projection, as under half precision on the CPU.
    monkeypatch.setattr(transformer, "rounds_row_counts", lambda x: rounded)
    monkeypatch.setattr(
        attention_module, "attention_keeps_output", lambda q: attention_keeps_output
    )
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


class _Products(TorchDispatchMode):
    """The operand shapes of every matrix product run under it."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[list[tuple[int, ...]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default):
            self.shapes.append([tuple(a.shape) for a in args if isinstance(a, torch.Tensor)])
        return func(*args, **(kwargs or {}))


def test_under_bf16_on_the_cpu_every_product_has_a_multiple_of_64_rows(helpers):
    # oneDNN builds kernels for each new shape of a bf16 product: every product of a padded
    # batch, forward and backward, encoder and decoder and output layer, sees 64 rows here
    # (the batch's 15 source and 21 target positions, rounded up), never 15 or 21
    gen = torch.Generator().manual_seed(3)
    model = helpers.build(helpers.tiny_config(), 40, 48).train()
    src = helpers.random_tokens(gen, 3, 5, 40)
    src[1, :2] = 1  # left-padded source
    prev = helpers.random_tokens(gen, 3, 7, 48)
    prev[2, 4:] = 1
    with _Products() as products:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, _ = model(src, None, prev)
        logits.float().sum().backward()
    assert logits.shape == (3, 7, 48)
    assert len(products.shapes) == 3 * 23  # 23 linear layers, each forward and 2 backward
    for shapes in products.shapes:
        dims = {d for shape in shapes for d in shape}
        assert 64 in dims and not dims & {15, 21}, shapes


def test_a_language_model_under_bf16_on_the_cpu_has_a_multiple_of_64_rows_too(helpers):
    model = helpers.build_lm(helpers.tiny_lm_config(), 48).train()
    tokens = helpers.random_tokens(torch.Generator().manual_seed(4), 3, 7, 48)
    tokens[1, 5:] = 1
    with _Products() as products:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, _ = model(tokens)
        logits.float().sum().backward()
    assert logits.shape == (3, 7, 48)
    assert len(products.shapes) == 3 * 9  # 4 linear layers in each of 2 layers, the output layer
    for shapes in products.shapes:
        dims = {d for shape in shapes for d in shape}
        assert 64 in dims and 21 not in dims, shapes
