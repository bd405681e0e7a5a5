"""Loss and learning-rate curves from ``seqcore train --log-format json`` logs, as a picture.

A log is whatever holds the run's JSON records, one per line: the stdout of ``--log-format
json``, or the ``--log-file`` of any run (which gets the records whatever the console shows);
other lines are skipped. Training loss comes from the ``train_inner`` records (every
``--log-interval`` updates), or the ``train`` (end of epoch) ones where there are none; validation
loss from the ``valid`` records; the learning rate from the training records.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from seqcore.errors import ConfigError, DataError
from seqcore.safe_files import replacing

PLOT_EXTRA = "plot"


@dataclasses.dataclass
class Curves:
    """One run's series, each a list of ``(num_updates, value)``."""

    label: str
    train_loss: list[tuple[int, float]]
    valid_loss: list[tuple[int, float]]
    lr: list[tuple[int, float]]


def _records(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DataError(f"{path}: cannot read the log ({e.strerror or e})") from None
    records = []
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "kind" in record and "num_updates" in record:
            records.append(record)
    return records


def _series(records: list[dict], kind: str, key: str) -> list[tuple[int, float]]:
    return [
        (int(r["num_updates"]), float(r[key]))
        for r in records
        if r["kind"] == kind and isinstance(r.get(key), (int, float))
    ]


def read_curves(path: str | os.PathLike, label: str | None = None) -> Curves:
    """The curves of the run logged in ``path``; a file without JSON training records is an
    error naming it."""
    path = Path(path)
    records = _records(path)
    train_kind = "train_inner" if any(r["kind"] == "train_inner" for r in records) else "train"
    curves = Curves(
        label or path.stem,
        _series(records, train_kind, "loss"),
        _series(records, "valid", "loss"),
        _series(records, train_kind, "lr"),
    )
    if not (curves.train_loss or curves.valid_loss):
        raise DataError(
            f"{path}: no loss records; plot reads a seqcore train --log-file, or the output "
            "of --log-format json"
        )
    return curves


def _visible_alone(series: list[tuple[int, float]]) -> dict[str, object]:
    """A line of one point draws nothing: a run shorter than two log intervals gets a marker."""
    return {"marker": "o", "markersize": 4} if len(series) == 1 else {}


def draw(runs: list[Curves], output: str | os.PathLike) -> Path:
    """Training (solid) and validation (dashed) loss, and the learning rate, against updates,
    every run overlaid in its own colour; written to ``output`` (format from its suffix)."""
    try:
        import matplotlib  # optional, and slow to import: only when a picture is drawn

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            f"seqcore plot needs matplotlib: pip install 'seqcore-toolkit[{PLOT_EXTRA}]'"
        ) from None
    with_lr = any(run.lr for run in runs)
    fig, axes = plt.subplots(
        2 if with_lr else 1, 1, sharex=True, figsize=(8, 7 if with_lr else 4.5), squeeze=False
    )
    loss_ax = axes[0][0]
    for i, run in enumerate(runs):
        colour = f"C{i % 10}"
        if run.train_loss:
            loss_ax.plot(*zip(*run.train_loss), color=colour, label=f"{run.label} train",
                         **_visible_alone(run.train_loss))  # fmt: skip
        if run.valid_loss:
            x, y = zip(*run.valid_loss)
            loss_ax.plot(x, y, "--o", color=colour, markersize=3, label=f"{run.label} valid")
        if with_lr and run.lr:
            axes[1][0].plot(*zip(*run.lr), color=colour, label=run.label, **_visible_alone(run.lr))
    loss_ax.set_ylabel("loss (base 2)")
    loss_ax.legend()
    loss_ax.grid(alpha=0.3)
    if with_lr:
        axes[1][0].set_ylabel("learning rate")
        axes[1][0].grid(alpha=0.3)
    axes[-1][0].set_xlabel("updates")
    output = Path(output)
    kind = output.suffix[1:].lower() or "png"
    try:
        if kind not in fig.canvas.get_supported_filetypes():
            raise ConfigError(
                f"-o {output}: cannot write a picture of type '{kind}'; "
                f"supported: {', '.join(sorted(fig.canvas.get_supported_filetypes()))}"
            )
        with replacing(output, "picture") as tmp:  # the whole picture or none, as every writer
            fig.savefig(tmp, format=kind, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return output
