import math

import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.lr_scheduler.tri_stage import TriStageLRSchedule, TriStageLRScheduleConfig
from seqcore.registry import LR_SCHEDULERS


def cfg(**values):
    return make_config(TriStageLRScheduleConfig, "tri_stage", values)


def expected(n, lr, warmup, hold, decay, init_scale=0.01, final_scale=0.01):
    init, final = lr * init_scale, lr * final_scale
    if n < warmup:
        return init + (lr - init) * n / warmup
    if n < warmup + hold:
        return lr
    if n <= warmup + hold + decay:
        # exponential interpolation from lr to final over the decay steps
        return lr * final_scale ** ((n - warmup - hold) / decay)
    return final


def test_registered_with_fairseq_defaults():
    assert LR_SCHEDULERS.get("tri_stage").obj is TriStageLRSchedule
    c = cfg(warmup_steps=1)
    assert (c.hold_steps, c.decay_steps, c.phase_ratio) == (0, 0, None)
    assert (c.init_lr_scale, c.final_lr_scale, c.max_update, c.lr) == (0.01, 0.01, 0, [0.25])


def test_initial_lr_is_init_scale_times_lr(make_optimizer):
    sched = TriStageLRSchedule(cfg(lr=[2.0], warmup_steps=4, init_lr_scale=0.05), make_optimizer())
    assert sched.optimizer.get_lr() == pytest.approx(0.1)


def test_three_stages(make_optimizer, run_events):
    sched = TriStageLRSchedule(
        cfg(lr=[1.0], warmup_steps=4, hold_steps=3, decay_steps=5, final_lr_scale=0.05),
        make_optimizer(),
    )
    points = list(range(0, 16))
    got = run_events(sched, [("update", n) for n in points])
    want = [expected(n, 1.0, 4, 3, 5, final_scale=0.05) for n in points]
    assert got == pytest.approx(want, rel=1e-12)
    assert got[0] == pytest.approx(0.01)
    assert got[4] == got[6] == got[7] == 1.0  # hold, and decay starts at the peak
    assert got[12] == pytest.approx(0.05) and got[15] == pytest.approx(0.05)


def test_phase_ratio_splits_max_update(make_optimizer, run_events):
    sched = TriStageLRSchedule(
        cfg(lr=[1.0], phase_ratio=(0.1, 0.4, 0.5), max_update=100), make_optimizer()
    )
    assert (sched.warmup_steps, sched.hold_steps, sched.decay_steps) == (10, 40, 50)
    points = [0, 5, 10, 49, 50, 75, 100, 101]
    got = run_events(sched, [("update", n) for n in points])
    assert got == pytest.approx([expected(n, 1.0, 10, 40, 50) for n in points], rel=1e-12)


def test_round_trip(round_trip):
    c = cfg(lr=[1.0], warmup_steps=4, hold_steps=3, decay_steps=5)
    before = [("update", n) for n in range(0, 3)] + [("end", 1, 0.5)]
    after = [("epoch", 2)] + [("update", n) for n in range(3, 15)]
    round_trip(TriStageLRSchedule, c, before, after)


@pytest.mark.parametrize(
    "values, flag",
    [
        ({"lr": [0.1, 0.2], "warmup_steps": 1}, "--lr"),
        ({}, "--phase-ratio"),
        ({"phase_ratio": (0.5, 0.5, 0.5), "max_update": 10}, "--phase-ratio"),
        ({"phase_ratio": (0.5, 0.5), "max_update": 10}, "--phase-ratio"),
        ({"phase_ratio": (0.2, 0.3, 0.5)}, "--max-update"),
        ({"warmup_steps": 1, "final_lr_scale": 0.0}, "--final-lr-scale"),
    ],
)
def test_bad_values_are_config_errors(values, flag):
    with pytest.raises(ConfigError, match=flag):
        cfg(**values)


def test_decay_factor_matches_fairseq_definition(make_optimizer):
    sched = TriStageLRSchedule(cfg(lr=[1.0], decay_steps=8, final_lr_scale=0.02), make_optimizer())
    assert sched.decay_factor == pytest.approx(-math.log(0.02) / 8)
