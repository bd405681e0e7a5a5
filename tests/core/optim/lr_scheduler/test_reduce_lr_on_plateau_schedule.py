import pytest
import torch

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.optim.lr_scheduler.reduce_lr_on_plateau import (
    ReduceLROnPlateauLRSchedule,
    ReduceLROnPlateauLRScheduleConfig,
)
from seqcore.registry import LR_SCHEDULERS


def cfg(**values):
    return make_config(ReduceLROnPlateauLRScheduleConfig, "reduce_lr_on_plateau", values)


def test_registered_with_fairseq_defaults():
    assert LR_SCHEDULERS.get("reduce_lr_on_plateau").obj is ReduceLROnPlateauLRSchedule
    c = cfg()
    assert (c.lr_shrink, c.lr_threshold, c.lr_patience) == (0.1, 1e-4, 0)
    assert (c.warmup_updates, c.warmup_init_lr, c.lr) == (0, -1.0, [0.25])


def test_initial_lr(make_optimizer):
    sched = ReduceLROnPlateauLRSchedule(cfg(lr=[0.5]), make_optimizer(lr=0.01))
    assert sched.optimizer.get_lr() == 0.5
    sched = ReduceLROnPlateauLRSchedule(cfg(lr=[0.5], warmup_updates=4), make_optimizer())
    assert sched.optimizer.get_lr() == 0.0


def test_shrinks_after_patience_runs_out(make_optimizer, run_events):
    sched = ReduceLROnPlateauLRSchedule(
        cfg(lr=[1.0], lr_patience=1, lr_shrink=0.5), make_optimizer()
    )
    losses = [5.0, 4.0, 4.0, 4.0, 3.9999, 3.0, 3.0, 3.0]
    got = run_events(sched, [("end", e, v) for e, v in enumerate(losses, start=1)])
    # epoch 3: one bad epoch (= patience); epoch 4: two -> shrink; epoch 5: 3.9999 is not below
    # 4 * (1 - 1e-4), so bad; epoch 6 improves; epochs 7, 8 bad -> shrink
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert sched.best == 3.0


@pytest.mark.parametrize("patience, shrink, threshold", [(0, 0.1, 1e-4), (2, 0.5, 0.05)])
def test_matches_torch_reduce_lr_on_plateau(
    make_optimizer, run_events, patience, shrink, threshold
):
    gen = torch.Generator().manual_seed(0)
    losses = (torch.rand(30, generator=gen) + torch.linspace(3, 1, 30)).tolist()
    sched = ReduceLROnPlateauLRSchedule(
        cfg(lr=[1.0], lr_patience=patience, lr_shrink=shrink, lr_threshold=threshold),
        make_optimizer(),
    )
    got = run_events(sched, [("end", e, v) for e, v in enumerate(losses, start=1)])
    param = torch.nn.Parameter(torch.zeros(1))
    ref_opt = torch.optim.SGD([param], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        ref_opt, mode="min", factor=shrink, patience=patience, threshold=threshold
    )
    want = []
    for v in losses:
        ref.step(v)
        want.append(ref_opt.param_groups[0]["lr"])
    assert got == want
    assert min(got) < 1.0


@pytest.mark.parametrize("patience, threshold", [(0, 1e-4), (1, 0.01)])
def test_maximized_metric_matches_torch_mode_max(make_optimizer, run_events, patience, threshold):
    """With --maximize-best-checkpoint-metric (BLEU, say) a rising metric is an improvement."""
    gen = torch.Generator().manual_seed(1)
    bleu = (torch.rand(30, generator=gen) * 3 + torch.linspace(10, 30, 30)).tolist()
    sched = ReduceLROnPlateauLRSchedule(
        cfg(
            lr=[1.0],
            lr_patience=patience,
            lr_shrink=0.5,
            lr_threshold=threshold,
            maximize_best_checkpoint_metric=True,
        ),
        make_optimizer(),
    )
    got = run_events(sched, [("end", e, v) for e, v in enumerate(bleu, start=1)])
    param = torch.nn.Parameter(torch.zeros(1))
    ref_opt = torch.optim.SGD([param], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        ref_opt, mode="max", factor=0.5, patience=patience, threshold=threshold
    )
    want = []
    for v in bleu:
        ref.step(v)
        want.append(ref_opt.param_groups[0]["lr"])
    assert got == want
    assert sched.best == max(bleu)


def test_steadily_improving_bleu_keeps_the_rate(make_optimizer, run_events):
    sched = ReduceLROnPlateauLRSchedule(
        cfg(lr=[1.0], maximize_best_checkpoint_metric=True), make_optimizer()
    )
    got = run_events(sched, [("end", e, 10.0 + e) for e in range(1, 6)])
    assert got == [1.0] * 5


def test_maximize_flag_reaches_the_schedule():
    """One --maximize-best-checkpoint-metric feeds the checkpoint choice and the schedule."""
    from seqcore.cli.train import train_command

    args = ["DATA", "-a", "transformer", "--optimizer", "sgd"]
    args += ["--lr-scheduler", "reduce_lr_on_plateau"]
    cfg = train_command.resolve_args(args)
    assert cfg.lr_scheduler.maximize_best_checkpoint_metric is False
    cfg = train_command.resolve_args(args + ["--maximize-best-checkpoint-metric"])
    assert cfg.lr_scheduler.maximize_best_checkpoint_metric is True
    assert cfg.checkpoint.maximize_best_checkpoint_metric is True


def test_no_validation_loss_keeps_lr(make_optimizer, run_events):
    sched = ReduceLROnPlateauLRSchedule(cfg(lr=[1.0]), make_optimizer())
    assert run_events(sched, [("end", 1, None), ("end", 2, None), ("epoch", 3)]) == [1.0] * 3


def test_warmup_then_plateau(make_optimizer, run_events):
    sched = ReduceLROnPlateauLRSchedule(
        cfg(lr=[1.0], warmup_updates=4, warmup_init_lr=0.2), make_optimizer()
    )
    got = run_events(
        sched,
        [("update", 0), ("update", 2), ("end", 1, 5.0), ("end", 2, 6.0), ("update", 4)]
        + [("update", 5), ("end", 3, 6.0), ("end", 4, 7.0), ("update", 6)],
    )
    # warmup: 0.2 + n * 0.8 / 4 up to n = 4; validation losses during warmup change nothing;
    # after it, 6.0 becomes the best and 7.0 (patience 0) shrinks
    assert got == pytest.approx([0.2, 0.6, 0.6, 0.6, 1.0, 1.0, 1.0, 0.1, 0.1])


def test_round_trip_keeps_best_and_bad_epochs(round_trip):
    c = cfg(lr=[1.0], lr_patience=2, lr_shrink=0.5, warmup_updates=3)
    before = [("update", n) for n in range(0, 5)] + [("end", 1, 2.0), ("end", 2, 2.5)]
    after = [("end", 3, 2.4), ("update", 9), ("end", 4, 2.3), ("end", 5, 1.0), ("end", 6, 1.5)]
    round_trip(ReduceLROnPlateauLRSchedule, c, before, after)
    round_trip(ReduceLROnPlateauLRSchedule, c, [("update", 1)], [("update", 2), ("update", 3)])


@pytest.mark.parametrize(
    "values, flag",
    [
        ({"lr": [0.1, 0.2]}, "--lr"),
        ({"lr_shrink": 1.0}, "--lr-shrink"),
        ({"lr_patience": -1}, "--lr-patience"),
    ],
)
def test_bad_values_are_config_errors(values, flag):
    with pytest.raises(ConfigError, match=flag):
        cfg(**values)
