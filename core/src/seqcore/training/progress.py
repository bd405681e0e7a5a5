"""How a training run reports: ``--log-format tqdm|simple|json|none``, and ``--log-file``.

``simple`` and ``json`` write one line per report to stdout (json: one object per line, with
numbers as numbers); ``tqdm`` shows a progress bar on stderr and writes the summaries above it;
``none`` writes only the epoch and validation summaries.

``--log-file`` appends every report to a file as a JSON record, whatever the console shows (a
bar, simple lines or the same records), and every message and seqcore log line as text: it is
fairseq's "log file to copy metrics to", and ``seqcore plot`` draws any run's curves from it. A
run that trains with a progress bar on the console still leaves every ``train_inner`` record
there.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import IO, Any

from seqcore.errors import ConfigError

_ORDER = ["loss", "nll_loss", "ppl", "accuracy", "wps", "ups", "wpb", "bsz", "lr", "gnorm"]


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, float):
        if key == "lr":
            return f"{value:.6g}"
        if key in ("wps", "ups", "wpb", "bsz", "wall"):
            return f"{value:.1f}" if key == "ups" else f"{value:.0f}"
        return f"{value:.3f}"
    return str(value)


def _ordered(metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    """fairseq's order: the loss figures, throughput, lr and gnorm, then the others (a task's
    own, as bleu) by name, and the best-so-far figures last."""
    others = sorted(k for k in metrics if k not in _ORDER)
    keys = (
        [k for k in _ORDER if k in metrics]
        + [k for k in others if not k.startswith("best_")]
        + [k for k in others if k.startswith("best_")]
    )
    return [(k, metrics[k]) for k in keys if k not in ("ntokens", "nsentences", "sample_size")]


class Progress:
    """Writes reports in the chosen format; ``bar`` wraps an epoch's iterator for tqdm."""

    def __init__(
        self, log_format: str | None, quiet: bool = False, log_file: str | None = None
    ) -> None:
        if log_format is None:
            log_format = "tqdm" if sys.stderr.isatty() else "simple"
        self.format = log_format
        self.quiet = quiet  # ranks other than 0 of a distributed run: rank 0 speaks for all
        self._bar = None
        self._file: IO[str] | None = None
        self._handler: logging.Handler | None = None
        if log_file is not None and not quiet:
            self._open_log_file(log_file)

    def _open_log_file(self, path: str) -> None:
        try:
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        except OSError as e:
            raise ConfigError(f"--log-file {path}: cannot open it ({e.strerror})") from None
        self._handler = logging.StreamHandler(self._file)
        root = logging.getLogger("seqcore")
        if root.handlers and root.handlers[0].formatter is not None:
            self._handler.setFormatter(root.handlers[0].formatter)
        root.addHandler(self._handler)

    def close(self) -> None:
        """Stop writing to ``--log-file`` (the reports end with the run)."""
        self.close_bar()
        if self._handler is not None:
            logging.getLogger("seqcore").removeHandler(self._handler)
            self._handler = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def _to_file(self, line: str) -> None:
        if self._file is not None:
            self._file.write(line + "\n")
            self._file.flush()

    def bar(self, iterable: Any, epoch: int, total: int, initial: int = 0) -> Any:
        if self.format != "tqdm" or self.quiet:
            return iterable
        from tqdm import tqdm

        self._bar = tqdm(
            iterable,
            total=total,
            initial=initial,
            desc=f"epoch {epoch:03d}",
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        return self._bar

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def report(self, kind: str, epoch: int, num_updates: int, metrics: dict[str, Any]) -> None:
        """``kind``: "train_inner" (every --log-interval), "train" (epoch) or "valid"."""
        if self.quiet:
            return
        record = {"kind": kind, "epoch": epoch, "num_updates": num_updates}
        record.update({k: v for k, v in _ordered(metrics)})
        self._to_file(json.dumps(record))  # --log-file: every report, whatever the console shows
        if self.format == "tqdm" and kind == "train_inner":
            if self._bar is not None:
                self._bar.set_postfix(
                    {k: _fmt(k, v) for k, v in _ordered(metrics) if k in ("loss", "lr", "wps")},
                    refresh=False,
                )
            return
        if self.format == "none" and kind == "train_inner":
            return
        if self.format == "json":
            self._print(json.dumps(record))
            return
        head = {"train_inner": "", "train": "end of epoch | ", "valid": "valid | "}[kind]
        fields = " | ".join(f"{k} {_fmt(k, v)}" for k, v in _ordered(metrics))
        self._print(f"{head}epoch {epoch:03d} | num_updates {num_updates} | {fields}")

    def message(self, text: str) -> None:
        """A line for the user on stderr (stdout stays machine-readable with json)."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)
        self._to_file(text)
