"""When a run validates, saves and stops (seqcore.training.schedule), on configurations resolved
from real flags: the rules played over a whole run as the loop asks them, compared with the
updates written out by hand from fairseq's validate_and_save (plus seqcore's save at the end of
the last epoch, which --save-interval would skip)."""

from __future__ import annotations

import pytest

from seqcore.cli.train import train_command
from seqcore.training import schedule

BASE = ["DATA", "-a", "transformer", "--optimizer", "sgd", "--lr", "0.1"]


def cfg(*flags: str):
    return train_command.resolve_args([*BASE, *flags])


def play(config, epochs: int, per_epoch: int):
    """(validated, saved): the updates after which each is due in a run of ``epochs`` epochs of
    ``per_epoch`` updates that stops at its limits as the loop does."""
    validated, saved, n = [], [], 0
    for epoch in range(1, epochs + 1):
        if schedule.epoch_limit(config, epoch, n):
            break
        for k in range(1, per_epoch + 1):
            n += 1
            stopping = schedule.update_limit(config, n) is not None
            due = schedule.due_after_update(config, epoch, n, k == per_epoch, stopping)
            if due.validate:
                validated.append(n)
            if due.save:
                saved.append(n)
            if stopping:
                return validated, saved
    return validated, saved


@pytest.mark.parametrize(
    "flags, validated, saved",
    [
        # every epoch by default
        ([], [4, 8, 12], [4, 8, 12]),
        # --save-interval 2: epoch 2 and the last epoch; validation stays every epoch
        (["--save-interval", "2"], [4, 8, 12], [8, 12]),
        # --validate-interval 2: validation at the end of epoch 2 only
        (["--validate-interval", "2"], [8], [4, 8, 12]),
        # mid-epoch saves validate first, so that checkpoint_best can follow them
        (["--save-interval-updates", "3"], [3, 4, 6, 8, 9, 12], [3, 4, 6, 8, 9, 12]),
        (["--validate-interval-updates", "5"], [4, 5, 8, 10, 12], [4, 8, 12]),
        # --max-update stops mid-epoch: that update validates and saves
        (["--max-update", "6"], [4, 6], [4, 6]),
    ],
)
def test_validation_and_saves_over_a_run_of_three_epochs_of_four_updates(flags, validated,
                                                                         saved):  # fmt: skip
    assert play(cfg("--max-epoch", "3", *flags), 3, 4) == (validated, saved)


def test_limits_name_the_flag_that_stops_the_run():
    c = cfg("--max-epoch", "2", "--max-update", "10", "--stop-min-lr", "1e-5",
            "--stop-time-hours", "0.5")  # fmt: skip
    assert schedule.epoch_limit(c, 2, 3) is None
    assert schedule.epoch_limit(c, 3, 3) == "--max-epoch 2 reached"
    assert schedule.epoch_limit(c, 2, 10) == "--max-update 10 reached"
    assert schedule.update_limit(c, 9) is None
    assert schedule.lr_limit(c, 2e-5) is None
    assert schedule.lr_limit(c, 1e-5) == "learning rate 1e-05 reached --stop-min-lr"
    assert schedule.time_limit(c, 1799.0) is None
    assert schedule.time_limit(c, 1800.0) == "--stop-time-hours 0.5 reached"


def test_no_limits_by_default():
    c = cfg()
    assert schedule.epoch_limit(c, 10**6, 10**9) is None
    assert schedule.time_limit(c, 10.0**9) is None
    assert schedule.lr_limit(c, 0.0) is None  # --stop-min-lr -1, as fairseq: never
