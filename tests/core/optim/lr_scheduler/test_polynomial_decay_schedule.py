import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.lr_scheduler.polynomial_decay import (
    PolynomialDecayLRSchedule,
    PolynomialDecayLRScheduleConfig,
)
from seqcore.registry import LR_SCHEDULERS


def cfg(**values):
    return make_config(PolynomialDecayLRScheduleConfig, "polynomial_decay", values)


def expected(n, lr, warmup, total, end=0.0, power=1.0):
    if warmup > 0 and n <= warmup:
        return lr * n / warmup
    if n >= total:
        return end
    return (lr - end) * (1 - (n - warmup) / (total - warmup)) ** power + end


def test_registered_with_fairseq_defaults():
    assert LR_SCHEDULERS.get("polynomial_decay").obj is PolynomialDecayLRSchedule
    c = cfg(max_update=10)
    assert (c.warmup_updates, c.force_anneal, c.end_learning_rate, c.power) == (0, None, 0.0, 1.0)
    assert c.total_num_update == 0 and c.lr == [0.25]


def test_initial_lr(make_optimizer):
    assert PolynomialDecayLRSchedule(cfg(max_update=9), make_optimizer()).optimizer.get_lr() == 0.25
    sched = PolynomialDecayLRSchedule(
        cfg(lr=[1.0], warmup_updates=4, max_update=9), make_optimizer()
    )
    assert sched.optimizer.get_lr() == pytest.approx(0.25)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_warmup_then_polynomial_decay(make_optimizer, run_events, power):
    lr, warmup, total, end = 1.0, 4, 20, 0.1
    sched = PolynomialDecayLRSchedule(
        cfg(
            lr=[lr],
            warmup_updates=warmup,
            total_num_update=total,
            end_learning_rate=end,
            power=power,
        ),
        make_optimizer(),
    )
    points = [0, 1, 3, 4, 5, 12, 19, 20, 30]
    got = run_events(sched, [("update", n) for n in points])
    want = [expected(n, lr, warmup, total, end, power) for n in points]
    assert got == pytest.approx(want, rel=1e-12)
    assert got[points.index(4)] == pytest.approx(lr)
    assert got[points.index(20)] == end


def test_total_num_update_defaults_to_max_update(make_optimizer, run_events):
    sched = PolynomialDecayLRSchedule(cfg(lr=[0.5], max_update=100), make_optimizer())
    got = run_events(sched, [("update", n) for n in (0, 25, 99, 100)])
    assert got == pytest.approx([expected(n, 0.5, 0, 100) for n in (0, 25, 99, 100)])


def test_epoch_start_sets_base_lr_and_force_anneal_freezes_it(make_optimizer, run_events):
    sched = PolynomialDecayLRSchedule(
        cfg(lr=[1.0], total_num_update=100, force_anneal=2), make_optimizer()
    )
    got = run_events(sched, [("epoch", 1), ("update", 50), ("epoch", 2), ("update", 60)])
    # from --force-anneal on the base rate is the rate in force (0.5), decayed from there
    assert got == pytest.approx([1.0, 0.5, 0.5, 0.5 * (1 - 60 / 100)])


def test_epoch_lr_index_is_fairseqs(make_optimizer, run_events):
    """fairseq 0.12.2 picks lr[min(epoch, len - 1)] here (unlike fixed's lr[epoch - 1])."""
    sched = PolynomialDecayLRSchedule(cfg(lr=[1.0, 0.5], total_num_update=10), make_optimizer())
    assert run_events(sched, [("epoch", 1), ("epoch", 2)]) == [0.5, 0.5]


def test_round_trip_mid_warmup_and_after_force_anneal(round_trip):
    c = cfg(lr=[1.0], warmup_updates=8, total_num_update=40, power=2.0, force_anneal=2)
    before = [("epoch", 1)] + [("update", n) for n in range(0, 4)] + [("end", 1, 2.0)]
    after = [("epoch", 2)] + [("update", n) for n in (4, 8, 9, 20)] + [("epoch", 3), ("update", 30)]
    round_trip(PolynomialDecayLRSchedule, c, before, after)
    round_trip(PolynomialDecayLRSchedule, c, before + after[:4], after[4:])


def test_no_total_is_a_config_error():
    with pytest.raises(ConfigError, match="--total-num-update"):
        cfg(lr=[1.0])
