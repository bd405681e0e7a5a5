import copy

import pytest
import torch

from seqcore.optim import FunctionalOptimizer
from seqcore.optim.sgd import FunctionalSGD


class Halve(FunctionalOptimizer):
    """p <- p - lr * grad, counting its updates in the state."""

    def update(self, group, params, states):
        for p, state in zip(params, states):
            p.add_(p.grad, alpha=-group["lr"])
            state["count"] = state.get("count", torch.tensor(0.0)) + 1


def params(n=2):
    return [torch.nn.Parameter(torch.full((3,), float(i + 1))) for i in range(n)]


def test_groups_take_defaults_and_their_own_values():
    a, b = params()
    opt = Halve([{"params": [a]}, {"params": b, "lr": 0.5}], {"lr": 0.1})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b]


@pytest.mark.parametrize(
    "groups, message",
    [([], "empty parameter list"), ("dup", "more than one parameter group")],
)
def test_bad_parameter_lists(groups, message):
    if groups == "dup":
        p = params(1)[0]
        groups = [{"params": [p]}, {"params": [p]}]
    with pytest.raises(ValueError, match=message):
        Halve(groups, {"lr": 0.1})


def test_step_updates_only_parameters_with_gradients_and_without_autograd():
    a, b = params()
    opt = Halve([a, b], {"lr": 0.5})
    a.grad = torch.ones(3)
    opt.step()
    torch.testing.assert_close(a.detach(), torch.full((3,), 0.5))
    torch.testing.assert_close(b.detach(), torch.full((3,), 2.0))
    assert opt.state[a]["count"].item() == 1 and b not in opt.state
    assert opt.step(closure=lambda: 7.0) == 7.0


def test_zero_grad_drops_or_zeroes():
    a, b = params()
    opt = Halve([a, b], {"lr": 0.5})
    a.grad = torch.ones(3)
    opt.zero_grad(set_to_none=False)
    assert torch.equal(a.grad, torch.zeros(3)) and b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_state_dict_numbers_parameters_like_torch_and_loads_back():
    a, b = params()
    opt = Halve([{"params": [a]}, {"params": [b], "lr": 0.5}], {"lr": 0.1})
    b.grad = torch.ones(3)
    opt.step()
    state = opt.state_dict()
    assert state["state"] == {1: {"count": torch.tensor(1.0)}}
    assert state["param_groups"] == [{"lr": 0.1, "params": [0]}, {"lr": 0.5, "params": [1]}]
    c, d = params()
    other = Halve([{"params": [c]}, {"params": [d]}], {"lr": 0.1})
    other.load_state_dict(copy.deepcopy(state))
    assert [g["lr"] for g in other.param_groups] == [0.1, 0.5]
    assert other.param_groups[1]["params"] == [d] and other.state[d]["count"].item() == 1


def test_loading_a_state_of_other_group_sizes_is_refused():
    opt = Halve(params(2), {"lr": 0.1})
    with pytest.raises(ValueError, match="parameter groups of other sizes"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]})


def test_sgd_state_loads_from_torch_sgd():
    """Momentum buffers saved by torch.optim.SGD carry on in ours, to the bit."""
    gen = torch.Generator().manual_seed(0)
    grads = [[torch.randn(3, generator=gen) for _ in range(2)] for _ in range(4)]

    def run(opt, ps, steps):
        for step in steps:
            for p, g in zip(ps, step):
                p.grad = g.clone()
            opt.step()

    ps = params()
    torch_sgd = torch.optim.SGD(ps, lr=0.1, momentum=0.9)
    run(torch_sgd, ps, grads[:2])
    mid = [p.detach().clone() for p in ps]
    run(torch_sgd, ps, grads[2:])
    expected = [p.detach().clone() for p in ps]

    qs = [torch.nn.Parameter(m.clone()) for m in mid]
    ours = FunctionalSGD(qs, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0})
    torch_sgd_mid = torch.optim.SGD(params(), lr=0.1, momentum=0.9)
    run(torch_sgd_mid, torch_sgd_mid.param_groups[0]["params"], grads[:2])
    ours.load_state_dict(copy.deepcopy(torch_sgd_mid.state_dict()))
    run(ours, qs, grads[2:])
    for q, e in zip(qs, expected):
        torch.testing.assert_close(q.detach(), e, rtol=0, atol=0)
