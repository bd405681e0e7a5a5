"""``--tensorboard-logdir``: the run's figures as TensorBoard scalars (rank 0 only), written
through torch's SummaryWriter when the tensorboard package is installed.

As fairseq lays them out: one run folder per kind of report (``train_inner``, ``train``,
``valid``) holding scalars named after the metrics, so that TensorBoard draws the training and
validation ``loss`` on one chart.
"""

from __future__ import annotations

import os
from typing import Any

from seqcore.errors import ConfigError


class TensorboardLog:
    """Scalars ``<metric>`` in ``<logdir>/<tag>`` at each update count; a no-op without a log
    folder."""

    def __init__(self, logdir: str | None) -> None:
        self.logdir = logdir
        self._writers: dict[str, Any] = {}
        if not logdir:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(
                "--tensorboard-logdir needs the tensorboard package: pip install tensorboard"
            ) from None
        self._summary_writer = SummaryWriter

    def write(self, tag: str, metrics: dict[str, Any], step: int) -> None:
        if not self.logdir:
            return
        if tag not in self._writers:
            self._writers[tag] = self._summary_writer(os.path.join(self.logdir, tag))
        writer = self._writers[tag]
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and not key.startswith("_"):
                writer.add_scalar(key, value, step)
        writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
