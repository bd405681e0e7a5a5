import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.lr_scheduler.fixed import FixedLRSchedule, FixedLRScheduleConfig
from seqcore.registry import LR_SCHEDULERS


def cfg(**values):
    return make_config(FixedLRScheduleConfig, "fixed", values)


def expected_base_lr(lrs, epoch, force_anneal=None, shrink=0.1):
    """fairseq 0.12.2: lr[epoch - 1] (last repeated); from --force-anneal on,
    lr[-1] * shrink ** (epoch + 1 - force_anneal)."""
    if force_anneal is None or epoch < force_anneal:
        return lrs[min(epoch, len(lrs)) - 1]
    return lrs[-1] * shrink ** (epoch + 1 - force_anneal)


def test_registered_with_fairseq_defaults():
    entry = LR_SCHEDULERS.get("fixed")
    assert entry.obj is FixedLRSchedule
    c = cfg()
    assert c.force_anneal is None and c.lr_shrink == 0.1 and c.warmup_updates == 0
    assert c.lr == [0.25]


def test_initial_lr_is_set_on_the_optimizer(make_optimizer):
    sched = FixedLRSchedule(cfg(lr=[0.7, 0.3]), make_optimizer(lr=0.01))
    assert sched.optimizer.get_lr() == 0.7


def test_one_lr_per_epoch_last_repeated(make_optimizer, run_events):
    lrs = [1.0, 0.5, 0.2]
    sched = FixedLRSchedule(cfg(lr=lrs), make_optimizer())
    got = run_events(sched, [("epoch", e) for e in range(1, 6)])
    assert got == [expected_base_lr(lrs, e) for e in range(1, 6)] == [1.0, 0.5, 0.2, 0.2, 0.2]


def test_updates_keep_the_epoch_lr(make_optimizer, run_events):
    sched = FixedLRSchedule(cfg(lr=[1.0, 0.5]), make_optimizer())
    got = run_events(sched, [("epoch", 2), ("update", 10), ("update", 11), ("end", 2, 3.0)])
    assert got == [0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("shrink", [0.1, 0.5])
def test_force_anneal(make_optimizer, run_events, shrink):
    lrs = [1.0, 0.5]
    sched = FixedLRSchedule(cfg(lr=lrs, force_anneal=3, lr_shrink=shrink), make_optimizer())
    got = run_events(sched, [("epoch", e) for e in range(1, 7)])
    expected = [expected_base_lr(lrs, e, 3, shrink) for e in range(1, 7)]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[2] == pytest.approx(0.5 * shrink)  # the first annealed epoch is shrunk once
    assert got[5] == pytest.approx(0.5 * shrink**4)


def test_linear_warmup(make_optimizer, run_events):
    warmup, lr = 4, 0.8
    sched = FixedLRSchedule(cfg(lr=[lr], warmup_updates=warmup), make_optimizer())
    assert sched.optimizer.get_lr() == pytest.approx(lr / warmup)
    got = run_events(sched, [("update", n) for n in range(0, 7)])
    expected = [lr * (n + 1) / warmup if n < warmup else lr for n in range(0, 7)]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[warmup - 1] == pytest.approx(lr)


def test_epoch_change_during_warmup_keeps_warmup_scale(make_optimizer, run_events):
    sched = FixedLRSchedule(cfg(lr=[1.0, 0.5], warmup_updates=10), make_optimizer())
    got = run_events(sched, [("update", 3), ("epoch", 2), ("update", 4)])
    assert got == pytest.approx([1.0 * 4 / 10, 0.5 * 4 / 10, 0.5 * 5 / 10])


def test_step_records_best_validation_loss(make_optimizer):
    sched = FixedLRSchedule(cfg(), make_optimizer())
    for epoch, loss in enumerate([3.0, 2.0, 2.5], start=1):
        sched.step(epoch, loss)
    assert sched.best == 2.0


def test_round_trip_mid_warmup_and_mid_anneal(round_trip):
    c = cfg(lr=[1.0, 0.5, 0.3], warmup_updates=6, force_anneal=4, lr_shrink=0.5)
    before = [("epoch", 1), ("update", 0), ("update", 1), ("update", 2), ("end", 1, 4.0)]
    after = [("epoch", 2), ("update", 3), ("update", 7), ("end", 2, 3.0), ("epoch", 3)]
    after += [("epoch", 4), ("epoch", 5), ("update", 40)]
    round_trip(FixedLRSchedule, c, before, after)
    before_anneal = before + after[:6]
    round_trip(FixedLRSchedule, c, before_anneal, [("epoch", 5), ("update", 50), ("epoch", 6)])


def test_empty_lr_is_a_config_error():
    with pytest.raises(ConfigError, match="--lr"):
        cfg(lr=[])
