"""Running figures of a training run: sums over a logging interval and throughput."""

from __future__ import annotations

import time
from typing import Any


class IntervalMeter:
    """Collects the logging outputs and update statistics of one interval (or one epoch)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.logs: list[dict[str, Any]] = []
        self.updates = 0
        self.gnorm_sum = 0.0
        self.start = time.perf_counter()

    def add(self, logs: list[dict[str, Any]], gnorm: float) -> None:
        self.logs.extend(logs)
        self.updates += 1
        self.gnorm_sum += gnorm

    def summary(self, reduce_metrics, lr: float, loss_scale: float | None) -> dict[str, float]:
        """Metrics of the interval: the criterion's (loss, nll_loss, ppl, ...) and throughput."""
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        ntokens = sum(float(log.get("ntokens", 0)) for log in self.logs)
        nsentences = sum(float(log.get("nsentences", 0)) for log in self.logs)
        metrics = dict(reduce_metrics(self.logs)) if self.logs else {}
        updates = max(self.updates, 1)
        metrics.update(
            wps=ntokens / elapsed,
            ups=self.updates / elapsed,
            wpb=ntokens / updates,
            bsz=nsentences / updates,
            lr=lr,
            gnorm=self.gnorm_sum / updates,
        )
        if loss_scale is not None:
            metrics["loss_scale"] = loss_scale
        return metrics


def validation_throughput(
    logs: list[dict[str, Any]], batches: float, seconds: float
) -> dict[str, float]:
    """wps, wpb and bsz of a validation pass, as fairseq's valid line shows them: target tokens
    per second, and tokens and sentences per batch (``logs`` summed over ranks, ``batches``
    counted over ranks)."""
    ntokens = sum(float(log.get("ntokens", 0)) for log in logs)
    nsentences = sum(float(log.get("nsentences", 0)) for log in logs)
    batches = max(batches, 1.0)
    return {
        "wps": ntokens / max(seconds, 1e-9),
        "wpb": ntokens / batches,
        "bsz": nsentences / batches,
    }
