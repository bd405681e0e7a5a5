"""The summed cross entropy taken straight from the scores (seqcore/criterions/logits_loss.py),
against finite differences and a float64 recomputation through log-softmax."""

import pytest
import torch

from seqcore.criterions.logits_loss import summed_cross_entropy

PAD = 1


def reference(logits, target, eps, ignore_index):
    """(loss, nll) through float64 log-probabilities and the label-smoothing formula."""
    lprobs = torch.log_softmax(logits.double(), -1)
    eps_i = eps / (lprobs.size(-1) - 1)
    nll = -lprobs.gather(-1, target[:, None]).squeeze(-1)
    smooth = -lprobs.sum(-1)
    keep = target.ne(ignore_index) if ignore_index is not None else torch.ones_like(target).bool()
    nll, smooth = nll * keep, smooth * keep
    return ((1 - eps - eps_i) * nll + eps_i * smooth).sum(), nll.sum()


def scores_and_target(rows=9, vocab=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = (torch.randn(rows, vocab, generator=gen, dtype=torch.float64) * 3).requires_grad_()
    target = torch.randint(0, vocab, (rows,), generator=gen)
    target[:3] = torch.tensor([PAD, 4, 4])  # padding and a repeated target
    return logits, target


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("ignore_index", [PAD, None])
def test_gradient_of_both_outputs_passes_gradcheck(eps, ignore_index):
    logits, target = scores_and_target()

    def weighted(x):  # non-unit incoming gradients on both outputs
        loss, nll = summed_cross_entropy(x, target, eps, ignore_index)
        return 2.5 * loss - 0.7 * nll

    assert torch.autograd.gradcheck(weighted, (logits,))


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_loss_nll_and_gradient_equal_the_log_softmax_route_in_float64(eps):
    logits, target = scores_and_target(rows=20, vocab=13, seed=3)
    loss, nll = summed_cross_entropy(logits, target, eps, PAD)
    (grad,) = torch.autograd.grad(1.5 * loss + 0.5 * nll, logits)
    x = logits.detach().clone().requires_grad_()
    ref_loss, ref_nll = reference(x, target, eps, PAD)
    (ref_grad,) = torch.autograd.grad(1.5 * ref_loss + 0.5 * ref_nll, x)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(nll, ref_nll, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-12)
    assert grad[target.eq(PAD)].abs().max() == 0  # nothing flows from padding


def test_half_precision_scores_are_taken_in_float32_and_get_a_gradient_of_their_dtype():
    logits, target = scores_and_target(rows=16, vocab=50, seed=5)
    half = logits.detach().bfloat16().requires_grad_()
    loss, nll = summed_cross_entropy(half, target, 0.1, PAD)
    assert loss.dtype == nll.dtype == torch.float32
    loss.backward()
    assert half.grad.dtype == torch.bfloat16
    x = half.detach().double().requires_grad_()  # the same (rounded) scores, in float64
    ref_loss, ref_nll = reference(x, target, 0.1, PAD)
    ref_loss.backward()
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(nll.double(), ref_nll, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(half.grad.double(), x.grad, rtol=1e-2, atol=1e-3)


def test_backward_keeps_the_scores_alone_not_log_probabilities():
    """What the memory saving rests on: of the N x V tensors, the backward pass keeps only the
    scores themselves (the two-step route keeps the log-probabilities, a tensor of its own)."""
    rows, vocab = 32, 40
    logits = torch.randn(rows, vocab, requires_grad=True)
    target = torch.randint(0, vocab, (rows,))
    kept = []

    def pack(t):
        if t.dim() == 2 and t.shape == (rows, vocab):
            kept.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        summed_cross_entropy(logits, target, 0.1, PAD)
    assert len(kept) == 1 and kept[0].data_ptr() == logits.data_ptr()

    kept.clear()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        torch.nn.functional.nll_loss(torch.log_softmax(logits, -1), target, reduction="sum")
    assert {t.data_ptr() for t in kept} - {logits.data_ptr()}  # log-probabilities kept
