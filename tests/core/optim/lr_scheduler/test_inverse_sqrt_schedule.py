import math

import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.lr_scheduler.inverse_sqrt import (
    InverseSquareRootLRScheduleConfig,
    InverseSquareRootSchedule,
)
from seqcore.registry import LR_SCHEDULERS


def cfg(**values):
    return make_config(InverseSquareRootLRScheduleConfig, "inverse_sqrt", values)


def expected(n, lr, warmup, init=0.0):
    if n < warmup:
        return init + n * (lr - init) / warmup
    return lr * math.sqrt(warmup) / math.sqrt(n)


def test_registered_with_fairseq_defaults():
    assert LR_SCHEDULERS.get("inverse_sqrt").obj is InverseSquareRootSchedule
    c = cfg()
    assert c.warmup_updates == 4000 and c.warmup_init_lr == -1.0 and c.lr == [0.25]


def test_initial_lr_is_warmup_init_lr(make_optimizer):
    assert InverseSquareRootSchedule(cfg(lr=[0.5]), make_optimizer()).optimizer.get_lr() == 0
    sched = InverseSquareRootSchedule(cfg(lr=[0.5], warmup_init_lr=1e-7), make_optimizer())
    assert sched.optimizer.get_lr() == 1e-7


@pytest.mark.parametrize("init", [-1.0, 0.1])
def test_warmup_then_inverse_sqrt(make_optimizer, run_events, init):
    lr, warmup = 0.5, 10
    sched = InverseSquareRootSchedule(
        cfg(lr=[lr], warmup_updates=warmup, warmup_init_lr=init), make_optimizer()
    )
    points = [0, 1, 5, 9, 10, 11, 40, 1000]
    got = run_events(sched, [("update", n) for n in points])
    want = [expected(n, lr, warmup, max(init, 0.0)) for n in points]
    assert got == pytest.approx(want, rel=1e-12)
    assert got[points.index(10)] == pytest.approx(lr)  # peak exactly at the end of warmup
    assert got[points.index(40)] == pytest.approx(lr / 2)


def test_epochs_do_not_change_the_lr(make_optimizer, run_events):
    sched = InverseSquareRootSchedule(cfg(lr=[0.5], warmup_updates=10), make_optimizer())
    got = run_events(sched, [("update", 20), ("end", 1, 2.0), ("epoch", 2)])
    assert got == pytest.approx([expected(20, 0.5, 10)] * 3)
    assert sched.best == 2.0


def test_round_trip(round_trip):
    c = cfg(lr=[0.5], warmup_updates=10, warmup_init_lr=0.01)
    before = [("update", n) for n in range(0, 7)] + [("end", 1, 5.0)]
    after = [("epoch", 2)] + [("update", n) for n in (7, 9, 10, 11, 50)]
    round_trip(InverseSquareRootSchedule, c, before, after)


def test_several_lrs_are_a_config_error():
    with pytest.raises(ConfigError, match="--lr"):
        cfg(lr=[0.1, 0.2])


def test_zero_warmup_is_a_config_error():
    with pytest.raises(ConfigError, match="--warmup-updates"):
        cfg(warmup_updates=0)
