import copy
import math

import pytest
import torch

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.registry import OPTIMIZERS
from seqcore_adam import Adam, AdamConfig
from seqcore_adam.adam import kernel_options


def cfg(**values):
    return make_config(AdamConfig, "adam", values)


def fresh_params(seed=1, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(torch.randn(4, 3, generator=gen, dtype=dtype)),
        torch.nn.Parameter(torch.randn(5, generator=gen, dtype=dtype)),
    ]


def gradients(params, steps, seed=0):
    """Per step, one random gradient per parameter (the same for every optimizer compared)."""
    gen = torch.Generator().manual_seed(seed)
    return [
        [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params] for _ in range(steps)
    ]


def apply(optimizer, params, grads):
    for step_grads in grads:
        optimizer.zero_grad()
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        optimizer.step()


def adamw_reference(params, grads, lr, betas, eps, weight_decay):
    """AdamW written out (Loshchilov & Hutter), in float64."""
    b1, b2 = betas
    values = [p.detach().double().clone() for p in params]
    m = [torch.zeros_like(v) for v in values]
    v2 = [torch.zeros_like(v) for v in values]
    for t, step_grads in enumerate(grads, start=1):
        for k, g in enumerate(step_grads):
            g = g.double()
            values[k] = values[k] * (1 - lr * weight_decay)
            m[k] = b1 * m[k] + (1 - b1) * g
            v2[k] = b2 * v2[k] + (1 - b2) * g * g
            m_hat = m[k] / (1 - b1**t)
            v_hat = v2[k] / (1 - b2**t)
            values[k] = values[k] - lr * m_hat / (v_hat.sqrt() + eps)
    return values


def test_registered_through_the_plugin():
    entry = OPTIMIZERS.get("adam")
    assert entry.obj is Adam and entry.config_class is AdamConfig


def test_defaults_mirror_fairseq():
    c = cfg()
    assert c.lr == [0.25] and c.adam_betas == (0.9, 0.999) and c.adam_eps == 1e-8
    assert c.weight_decay == 0.0 and c.adam_impl == "auto"


@pytest.mark.parametrize("impl", ["auto", "fused", "foreach", "single"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_matches_torch_adamw(impl, weight_decay):
    hyper = {
        "lr": [1e-2],
        "adam_betas": (0.9, 0.98),
        "adam_eps": 1e-6,
        "weight_decay": weight_decay,
    }
    ours_params, ref_params = fresh_params(), fresh_params()
    ours = Adam(cfg(adam_impl=impl, **hyper), ours_params)
    ref = torch.optim.AdamW(
        ref_params,
        lr=1e-2,
        betas=(0.9, 0.98),
        eps=1e-6,
        weight_decay=weight_decay,
        foreach=False,
    )
    grads = gradients(ours_params, steps=7)
    apply(ours, ours_params, grads)
    apply(ref, ref_params, grads)
    for a, b in zip(ours_params, ref_params):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("impl", ["foreach", "single", "fused"])
def test_matches_adamw_formula(impl):
    params = fresh_params(seed=3)
    start = [p.detach().clone() for p in params]
    opt = Adam(
        cfg(lr=[5e-3], adam_betas=(0.8, 0.95), adam_eps=1e-7, weight_decay=0.05, adam_impl=impl),
        params,
    )
    grads = gradients(params, steps=6, seed=4)
    apply(opt, params, grads)
    expected = adamw_reference(start, grads, 5e-3, (0.8, 0.95), 1e-7, 0.05)
    for p, e in zip(params, expected):
        torch.testing.assert_close(p.detach(), e, rtol=1e-10, atol=1e-12)


def test_weight_decay_is_decoupled_from_the_gradient():
    """With zero gradients the adaptive step is 0: only p <- p * (1 - lr * wd) remains (an L2
    penalty folded into the gradient would move p by about lr instead)."""
    p = torch.nn.Parameter(torch.tensor([2.0, -4.0], dtype=torch.float64))
    opt = Adam(cfg(lr=[0.1], weight_decay=0.5), [p])
    p.grad = torch.zeros_like(p)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([2.0, -4.0], dtype=torch.float64) * 0.95)


def test_lr_follows_set_lr_and_state_round_trips():
    params = fresh_params()
    opt = Adam(cfg(lr=[1e-2]), params)
    grads = gradients(params, steps=6, seed=9)
    apply(opt, params, grads[:3])
    opt.set_lr(3e-3)
    state = copy.deepcopy(opt.state_dict())
    other_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    other = Adam(cfg(lr=[1e-2]), other_params)
    other.load_state_dict(state)
    assert other.get_lr() == 3e-3
    apply(opt, params, grads[3:])
    apply(other, other_params, grads[3:])
    for a, b in zip(params, other_params):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("impl", ["fused", "foreach", "single"])
def test_state_dict_is_torch_adamw_s_in_both_directions(impl):
    """A checkpoint's optimizer state is torch's format: torch.optim.AdamW goes on from ours and
    ours from torch's, step for step."""
    hyper = {"lr": 1e-2, "betas": (0.9, 0.98), "eps": 1e-6, "weight_decay": 0.01}
    options = kernel_options(impl, fresh_params())
    grads = gradients(fresh_params(), steps=6, seed=2)
    for first in ("ours", "torch"):
        params = fresh_params()
        ours = Adam(
            cfg(
                lr=[1e-2], adam_betas=(0.9, 0.98), adam_eps=1e-6, weight_decay=0.01, adam_impl=impl
            ),
            params,
        )
        ref = torch.optim.AdamW(params, **hyper, **options)
        a, b = (ours, ref) if first == "ours" else (ref, ours)
        apply(a, params, grads[:3])
        b.load_state_dict(copy.deepcopy(a.state_dict()))
        keys = ("lr", "betas", "eps", "weight_decay", "params")
        assert [{k: g[k] for k in keys} for g in b.state_dict()["param_groups"]] == [
            {k: g[k] for k in keys} for g in a.state_dict()["param_groups"]
        ]
        continued = [p.detach().clone() for p in params]
        apply(a, params, grads[3:])
        expected = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, c in zip(params, continued):
                p.copy_(c)
        apply(b, params, grads[3:])
        for p, e in zip(params, expected):
            torch.testing.assert_close(p.detach(), e, rtol=0, atol=0)


def test_kernel_choice():
    cpu = [torch.zeros(1)]
    fused, foreach = {"fused": True, "foreach": False}, {"fused": False, "foreach": True}
    assert kernel_options("auto", cpu) == fused  # torch has a fused CPU kernel
    assert kernel_options("auto", []) == foreach
    assert kernel_options("fused", cpu) == fused
    assert kernel_options("foreach", cpu) == foreach
    assert kernel_options("single", cpu) == {"fused": False, "foreach": False}
    opt = Adam(cfg(adam_impl="single"), fresh_params())
    assert opt.optimizer.defaults["foreach"] is False and not opt.optimizer.defaults["fused"]
    opt = Adam(cfg(adam_impl="fused"), fresh_params())
    assert opt.optimizer.defaults["fused"] is True
    opt = Adam(cfg(), fresh_params())
    assert opt.optimizer.defaults["fused"] is True


def test_parameter_groups_are_accepted():
    a, b = fresh_params()
    opt = Adam(cfg(lr=[0.1]), [{"params": [a]}, {"params": [b], "weight_decay": 0.3}])
    assert [g["weight_decay"] for g in opt.param_groups] == [0.0, 0.3]


def test_fused_on_unsupported_parameters_is_a_config_error():
    params = [torch.nn.Parameter(torch.zeros(2)), torch.zeros(2, dtype=torch.int64)]
    with pytest.raises(ConfigError, match=r"--adam-impl fused.*torch\.int64 on cpu"):
        Adam(cfg(adam_impl="fused"), params)
    assert kernel_options("auto", params) == {"fused": False, "foreach": True}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_auto_uses_fused_on_cuda_and_matches_reference():
    params = [torch.nn.Parameter(p.detach().float().cuda()) for p in fresh_params()]
    start = [p.detach().double().cpu() for p in params]
    opt = Adam(cfg(lr=[1e-2], weight_decay=0.01), params)
    assert opt.optimizer.defaults["fused"] is True
    grads = [[g.float().cuda() for g in step] for step in gradients(params, steps=5)]
    apply(opt, params, grads)
    expected = adamw_reference(
        start, [[g.cpu() for g in s] for s in grads], 1e-2, (0.9, 0.999), 1e-8, 0.01
    )
    for p, e in zip(params, expected):
        torch.testing.assert_close(p.detach().double().cpu(), e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "values, flag",
    [
        ({"adam_betas": (1.0, 0.999)}, "--adam-betas"),
        ({"adam_betas": (0.9, -0.1)}, "--adam-betas"),
        ({"adam_betas": (0.9, 0.98, 0.1)}, "--adam-betas"),
        ({"adam_eps": 0.0}, "--adam-eps"),
        ({"adam_eps": -1e-8}, "--adam-eps"),
        ({"lr": []}, "--lr"),
        ({"weight_decay": -0.1}, "--weight-decay"),
    ],
)
def test_bad_values_are_config_errors(values, flag):
    with pytest.raises(ConfigError, match=flag):
        cfg(**values)


def test_betas_string_from_the_command_line_parses_to_a_tuple():
    from seqcore.config.types import convert

    betas = convert(tuple[float, float], "(0.9, 0.98)")
    assert cfg(adam_betas=betas).adam_betas == (0.9, 0.98)
    assert math.isclose(
        Adam(cfg(adam_betas=betas), fresh_params()).param_groups[0]["betas"][1], 0.98
    )
