import copy

import pytest
import torch

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.sgd import SGD, SGDConfig
from seqcore.registry import OPTIMIZERS


def run_steps(optimizer, params, steps=5, seed=0):
    """Apply ``steps`` updates with gradients of a fixed random quadratic."""
    gen = torch.Generator().manual_seed(seed)
    targets = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
    for _ in range(steps):
        optimizer.zero_grad()
        loss = sum(((p - t) ** 2 * (i + 1)).sum() for i, (p, t) in enumerate(zip(params, targets)))
        loss.backward()
        optimizer.step()


def fresh_params(seed=1):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(torch.randn(4, 3, generator=gen, dtype=torch.float64)),
        torch.nn.Parameter(torch.randn(3, generator=gen, dtype=torch.float64)),
    ]


def test_registered():
    entry = OPTIMIZERS.get("sgd")
    assert entry.obj is SGD and entry.config_class is SGDConfig


def test_defaults_mirror_fairseq():
    cfg = make_config(SGDConfig, "sgd", {})
    assert cfg.lr == [0.25] and cfg.momentum == 0.0 and cfg.weight_decay == 0.0


@pytest.mark.parametrize(
    "values",
    [{"lr": [0.1]}, {"lr": [0.05, 0.01], "momentum": 0.9}, {"lr": [0.1], "weight_decay": 0.01}],
)
def test_matches_torch_sgd(values):
    ours_params, ref_params = fresh_params(), fresh_params()
    ours = SGD(make_config(SGDConfig, "sgd", values), ours_params)
    ref = torch.optim.SGD(
        ref_params,
        lr=values["lr"][0],
        momentum=values.get("momentum", 0.0),
        weight_decay=values.get("weight_decay", 0.0),
    )
    run_steps(ours, ours_params)
    run_steps(ref, ref_params)
    for a, b in zip(ours_params, ref_params):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert ours.get_lr() == values["lr"][0]


def test_plain_sgd_step_is_minus_lr_times_grad():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = SGD(make_config(SGDConfig, "sgd", {"lr": [0.5]}), [p])
    p.grad = torch.tensor([0.2, 0.4], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([0.9, -2.2], dtype=torch.float64))


def test_set_lr_and_state_dict_round_trip():
    params = fresh_params()
    opt = SGD(make_config(SGDConfig, "sgd", {"lr": [0.1], "momentum": 0.9}), params)
    run_steps(opt, params, steps=2)
    opt.set_lr(0.03)
    state = copy.deepcopy(opt.state_dict())  # as a checkpoint file would hold it
    other_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    other = SGD(make_config(SGDConfig, "sgd", {"lr": [0.1], "momentum": 0.9}), other_params)
    other.load_state_dict(state)
    assert other.get_lr() == 0.03
    run_steps(opt, params, steps=3, seed=5)
    run_steps(other, other_params, steps=3, seed=5)
    for a, b in zip(params, other_params):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    "values, flag",
    [
        ({"lr": []}, "--lr"),
        ({"lr": [-0.1]}, "--lr"),
        ({"momentum": -0.5}, "--momentum"),
        ({"weight_decay": -1.0}, "--weight-decay"),
    ],
)
def test_bad_values_are_config_errors(values, flag):
    with pytest.raises(ConfigError, match=flag):
        make_config(SGDConfig, "sgd", values)
