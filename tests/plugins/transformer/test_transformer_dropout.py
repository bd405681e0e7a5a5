"""The CPU dropout against its definition: each element kept with probability 1 - p and scaled
by 1 / (1 - p); the gradient goes through the same mask and scale. The residual sum with dropout
(``add_dropout``) against the sum and the dropout done apart."""

import pytest
import torch

from seqcore_transformer.layers import add_dropout, dropout, keep_mask


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_keep_rate_scale_and_gradient(p):
    torch.manual_seed(0)
    x = torch.rand(1000, 1000, dtype=torch.float64) + 1.0  # no zeros of its own
    x.requires_grad_(True)
    y = dropout(x, p, training=True)
    kept = y != 0
    rate = kept.double().mean().item()
    # binomial standard deviation of the rate over 10^6 draws is < 5e-4
    assert abs(rate - (1 - p)) < 3e-3
    torch.testing.assert_close(y[kept], x.detach()[kept] / (1 - p))
    g = torch.randn_like(x)
    y.backward(g)
    torch.testing.assert_close(x.grad, torch.where(kept, g / (1 - p), torch.zeros_like(g)))


@pytest.mark.parametrize("p", [0.1, 0.25, 0.7])
def test_keep_mask_lanes_are_independent_and_uniform(p):
    """The mask splits 64-bit draws into four 16-bit integers: each of the four positions of a
    draw must be kept with probability 1 - p on its own (a biased lane, say a sign bit that is
    never set, would show here), and neighbours must not be correlated."""
    torch.manual_seed(1)
    m = keep_mask(torch.Size([4_000_000]), p).view(-1, 4).double()
    # the standard deviation of each lane's rate over 10^6 draws is < 5e-4
    torch.testing.assert_close(
        m.mean(0), torch.full((4,), 1 - p, dtype=torch.float64), atol=3e-3, rtol=0
    )
    both = (m[:, 0] * m[:, 1]).mean().item()
    assert abs(both - (1 - p) ** 2) < 3e-3
    odd = keep_mask(torch.Size([3, 7]), p)  # sizes that are not a multiple of four
    assert odd.shape == (3, 7) and odd.dtype == torch.bool


def test_no_op_when_not_training_or_p_zero():
    x = torch.randn(10, 10)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0, training=True) is x


def test_seeded_masks_repeat():
    x = torch.ones(64, 64)
    torch.manual_seed(3)
    a = dropout(x, 0.2, training=True)
    torch.manual_seed(3)
    b = dropout(x, 0.2, training=True)
    assert torch.equal(a, b)


def test_bfloat16_input_keeps_its_dtype():
    x = torch.ones(32, 32, dtype=torch.bfloat16, requires_grad=True)
    y = dropout(x, 0.1, training=True)
    assert y.dtype == torch.bfloat16
    y.sum().backward()
    assert x.grad.dtype == torch.bfloat16


def test_add_dropout_is_the_sum_with_the_same_mask_forward_and_gradients():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(300, 40, generator=gen, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(300, 40, generator=gen, dtype=torch.float64) + 1.0).requires_grad_(True)
    g = torch.randn(300, 40, generator=gen, dtype=torch.float64)
    torch.manual_seed(9)
    out = add_dropout(x, y, 0.3, training=True)
    out.backward(g)
    torch.manual_seed(9)
    kept = dropout(torch.ones(300, 40, dtype=torch.float64), 0.3, training=True) != 0
    assert 0.6 < kept.double().mean().item() < 0.8
    # x + y / (1 - p) where kept, x alone where dropped
    expected = x.detach() + torch.where(kept, y.detach() * (1 / 0.7), 0.0)
    torch.testing.assert_close(out, expected, rtol=1e-15, atol=0.0)
    assert torch.equal(x.grad, g)
    assert torch.equal(y.grad, torch.where(kept, g * (1 / 0.7), 0.0))


def test_add_dropout_keeps_each_input_dtype_and_does_nothing_more_when_not_training():
    x = torch.ones(16, 16, requires_grad=True)
    y = torch.ones(16, 16, dtype=torch.bfloat16, requires_grad=True)
    out = add_dropout(x, y, 0.1, training=True)
    assert out.dtype == torch.float32
    out.sum().backward()
    assert x.grad.dtype == torch.float32 and y.grad.dtype == torch.bfloat16
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    assert torch.equal(add_dropout(a, b, 0.5, training=False), a + b)
    assert torch.equal(add_dropout(a, b, 0.0, training=True), a + b)
