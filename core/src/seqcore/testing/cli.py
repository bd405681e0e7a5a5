"""Running ``seqcore`` commands in-process, output captured, for tests."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from seqcore.cli.main import main


@dataclasses.dataclass
class CliResult:
    """What :func:`run_cli` saw: the fields of a ``subprocess.CompletedProcess`` that tests
    read, so that a test moves from a subprocess to :func:`run_cli` by changing the call alone."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, input: str | None = None) -> CliResult:
    """``seqcore ARGS`` in this process (``seqcore.cli.main.main``), output captured.

    Much faster than a subprocess (no interpreter, torch and plug-ins to load again), and a bug
    shows as the exception's traceback instead of a subprocess's stderr. Start a process where
    the process is what is tested: start-up, signals, torchrun, installs, the environment a
    process starts with. The run's changes to ``SEQCORE_*``
    environment variables (``--user-dir`` sets one) are undone afterwards, and help is laid out
    80 columns wide, as in a subprocess."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SEQCORE_")}
    out, err = io.StringIO(), io.StringIO()
    logger = logging.getLogger("seqcore")  # its console handler outlives a run: point it at err

    def console_handlers() -> list[logging.StreamHandler]:
        return [h for h in logger.handlers if type(h) is logging.StreamHandler]

    def point(handler: logging.StreamHandler, stream) -> object:
        # not setStream, which flushes the old stream: a test runner may have closed it
        old, handler.stream = handler.stream, stream
        return old

    streams = {h: point(h, err) for h in console_handlers()}
    code: int | str | None = 0
    try:
        with (
            mock.patch.dict(os.environ, {"COLUMNS": "80"}),
            mock.patch("sys.stdin", io.StringIO(input or "")),
            redirect_stdout(out),
            redirect_stderr(err),
        ):
            main(list(args))
    except SystemExit as e:
        code = e.code
    finally:
        for handler in console_handlers():
            point(handler, streams.get(handler, sys.stderr))
        for key in [k for k in os.environ if k.startswith("SEQCORE_")]:
            if key not in saved:
                del os.environ[key]
        os.environ.update(saved)
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return CliResult(returncode, out.getvalue(), err.getvalue())
