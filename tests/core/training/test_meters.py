"""The figures of train and valid lines (seqcore.training.meters): fairseq's wps, ups, wpb, bsz
and gnorm, against their definitions on a clock the test sets."""

from __future__ import annotations

import pytest

from seqcore.training import meters


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(meters.time, "perf_counter", lambda: now[0])
    return now


def test_an_interval_s_throughput_and_averages(clock):
    meter = meters.IntervalMeter()
    meter.add([{"ntokens": 30, "nsentences": 4, "loss": 6.0}], gnorm=2.0)
    meter.add([{"ntokens": 20, "nsentences": 2, "loss": 3.0},
               {"ntokens": 10, "nsentences": 2, "loss": 1.0}], gnorm=4.0)  # fmt: skip
    clock[0] += 4.0
    seen = []

    def reduce(logs):
        seen.append(logs)
        return {"loss": sum(log["loss"] for log in logs) / len(logs)}

    metrics = meter.summary(reduce, lr=0.5, loss_scale=None)
    assert len(seen[0]) == 3  # every micro-batch's log goes to the criterion's reduction
    assert metrics == pytest.approx({
        "loss": 10 / 3,
        "wps": 60 / 4.0,  # target tokens per second
        "ups": 2 / 4.0,  # updates per second
        "wpb": 60 / 2,  # tokens per update
        "bsz": 8 / 2,  # sentences per update
        "lr": 0.5,
        "gnorm": 3.0,  # the mean over updates
    })  # fmt: skip
    assert "loss_scale" not in metrics
    assert meter.summary(reduce, 0.5, loss_scale=128.0)["loss_scale"] == 128.0


def test_reset_starts_a_new_interval(clock):
    meter = meters.IntervalMeter()
    meter.add([{"ntokens": 5}], gnorm=1.0)
    clock[0] += 10.0
    meter.reset()
    clock[0] += 2.0
    metrics = meter.summary(lambda logs: {"loss": 1.0}, lr=0.1, loss_scale=None)
    assert metrics["wps"] == 0.0 and metrics["ups"] == 0.0 and metrics["gnorm"] == 0.0
    assert "loss" not in metrics  # no logs: the criterion is not asked


def test_validation_throughput_is_per_batch_over_all_ranks():
    logs = [{"ntokens": 40, "nsentences": 5}, {"ntokens": 20, "nsentences": 3}]
    assert meters.validation_throughput(logs, batches=4, seconds=2.0) == pytest.approx(
        {"wps": 30.0, "wpb": 15.0, "bsz": 2.0}
    )
    assert meters.validation_throughput([], batches=0, seconds=0.0) == {
        "wps": 0.0, "wpb": 0.0, "bsz": 0.0}  # fmt: skip
