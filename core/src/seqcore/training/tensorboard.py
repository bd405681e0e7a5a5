"""``--tensorboard-logdir``: the run's figures as TensorBoard scalars (rank 0 only), written
through torch's SummaryWriter when the tensorboard package is installed."""

from __future__ import annotations

from typing import Any

from seqcore.errors import ConfigError


class TensorboardLog:
    """Scalars ``<tag>/<metric>`` at each update count; a no-op without a log folder."""

    def __init__(self, logdir: str | None) -> None:
        self._writer: Any = None
        if not logdir:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(
                "--tensorboard-logdir needs the tensorboard package: pip install tensorboard"
            ) from None
        self._writer = SummaryWriter(logdir)

    def write(self, tag: str, metrics: dict[str, Any], step: int) -> None:
        if self._writer is None:
            return
        for key, value in metrics.items():
            if isinstance(value, (int, float)):
                self._writer.add_scalar(f"{tag}/{key}", value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
