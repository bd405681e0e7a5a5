import math

import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.lr_scheduler.cosine import CosineLRSchedule, CosineLRScheduleConfig
from seqcore.registry import LR_SCHEDULERS


def cfg(**values):
    return make_config(CosineLRScheduleConfig, "cosine", values)


def expected(n, lr, min_lr, warmup, period, t_mult=1.0, shrink=0.1, init=None):
    """Warmup from ``init`` (default min_lr), then walk the periods one by one."""
    init = min_lr if init is None else init
    if n < warmup:
        return init + n * (lr - init) / warmup
    t = n - warmup
    i, start, length = 0, 0.0, float(period)
    while t >= start + length:
        start += length
        length *= t_mult
        i += 1
    low, high = min_lr * shrink**i, lr * shrink**i
    return low + (high - low) * (1 + math.cos(math.pi * (t - start) / length)) / 2


def test_registered_with_fairseq_defaults():
    assert LR_SCHEDULERS.get("cosine").obj is CosineLRSchedule
    c = cfg(max_update=100)
    assert (c.warmup_updates, c.warmup_init_lr, c.min_lr, c.t_mult) == (0, -1.0, 0.0, 1.0)
    assert (c.lr_period_updates, c.lr_shrink, c.lr) == (-1.0, 0.1, [0.25])


def test_initial_lr_is_warmup_init_lr(make_optimizer):
    sched = CosineLRSchedule(cfg(lr=[1.0], min_lr=0.1, max_update=50), make_optimizer())
    assert sched.optimizer.get_lr() == 0.1
    sched = CosineLRSchedule(
        cfg(lr=[1.0], warmup_init_lr=0.0, warmup_updates=5, max_update=50), make_optimizer()
    )
    assert sched.optimizer.get_lr() == 0.0


def test_period_defaults_to_max_update_minus_warmup(make_optimizer, run_events):
    lr, min_lr, warmup, max_update = 1.0, 0.1, 10, 50
    sched = CosineLRSchedule(
        cfg(lr=[lr], min_lr=min_lr, warmup_updates=warmup, max_update=max_update),
        make_optimizer(),
    )
    points = [0, 3, 9, 10, 11, 20, 30, 49, 50]
    got = run_events(sched, [("update", n) for n in points])
    want = [expected(n, lr, min_lr, warmup, max_update - warmup) for n in points]
    assert got == pytest.approx(want, rel=1e-12)
    assert got[points.index(10)] == pytest.approx(lr)  # peak right after warmup
    assert got[points.index(30)] == pytest.approx((lr + min_lr) / 2)  # half-way down


def test_restarts_with_fixed_period_and_shrink(make_optimizer, run_events):
    sched = CosineLRSchedule(
        cfg(lr=[1.0], min_lr=0.1, lr_period_updates=20, lr_shrink=0.5), make_optimizer()
    )
    points = [0, 10, 19, 20, 21, 39, 40, 45, 65]
    got = run_events(sched, [("update", n) for n in points])
    want = [expected(n, 1.0, 0.1, 0, 20, shrink=0.5) for n in points]
    assert got == pytest.approx(want, rel=1e-12)
    assert got[points.index(20)] == pytest.approx(0.5)  # second period starts at lr * shrink
    assert got[points.index(40)] == pytest.approx(0.25)


@pytest.mark.parametrize("t_mult", [2.0, 3.0, 1.5])
def test_growing_periods(make_optimizer, run_events, t_mult):
    sched = CosineLRSchedule(
        cfg(
            lr=[1.0],
            min_lr=0.0,
            warmup_updates=4,
            lr_period_updates=10,
            t_mult=t_mult,
            lr_shrink=0.8,
        ),
        make_optimizer(),
    )
    points = list(range(0, 200, 3)) + [14, 34, 44, 74, 134, 154]
    got = run_events(sched, [("update", n) for n in points])
    want = [expected(n, 1.0, 0.0, 4, 10, t_mult=t_mult, shrink=0.8) for n in points]
    assert got == pytest.approx(want, rel=1e-9, abs=1e-15)


def test_round_trip(round_trip):
    c = cfg(lr=[1.0], min_lr=0.01, warmup_updates=5, lr_period_updates=12, t_mult=2.0)
    before = [("update", n) for n in range(0, 9)] + [("end", 1, 1.5)]
    after = [("epoch", 2)] + [("update", n) for n in range(9, 60, 4)]
    round_trip(CosineLRSchedule, c, before, after)


@pytest.mark.parametrize(
    "values, flag",
    [
        ({"lr": [0.1, 0.2], "max_update": 10}, "--lr"),
        ({"lr": [0.1], "min_lr": 0.1, "max_update": 10}, "--min-lr"),
        ({"lr": [0.1]}, "--max-update"),
        ({"lr": [0.1], "max_update": 10, "warmup_updates": 10}, "--lr-period-updates"),
        ({"lr": [0.1], "max_update": 10, "t_mult": 0.0}, "--t-mult"),
    ],
)
def test_bad_values_are_config_errors(values, flag):
    with pytest.raises(ConfigError, match=flag):
        cfg(**values)
