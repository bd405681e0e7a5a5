"""Shared fixtures of the fault-injection suite: a tiny data folder and a tiny trained model,
made once, and :func:`seqcore` to run a command in-process with its exit status and output."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from support import TINY_TRANSFORMER, binarize_parallel, write_parallel_text

# the tiny transformer, quiet and without validation: a few updates take a fraction of a second
TINY = [*TINY_TRANSFORMER, "--log-format", "none", "--disable-validation"]


def seqcore(capsys, *args: str) -> tuple[int, str, str]:
    """``seqcore ARGS`` in this process: (exit status, stdout, stderr)."""
    from seqcore.cli.main import main

    logger = logging.getLogger("seqcore")
    saved = logger.handlers[:]
    logger.handlers.clear()  # main() makes its handler on the sys.stderr captured now
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
    finally:
        logger.handlers[:] = saved
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def error_line(err: str) -> str:
    """The error line of ``err``, asserting it is one line, the last, with no traceback or
    warning before it (the command's progress messages may come first)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("seqcore: error: "), err
    assert sum(line.startswith("seqcore: error") for line in lines) == 1, err
    assert not any("Traceback" in line or "arning" in line for line in lines), err
    return lines[-1]


@pytest.fixture(scope="session")
def data_bin(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults-data")
    text = write_parallel_text(root / "text", n_train=32, n_valid=8)
    data = binarize_parallel(text, root / "data-bin")
    # generate reads the test split: the valid one serves
    for suffix in ("src", "tgt"):
        for ext in ("bin", "idx"):
            shutil.copy(
                data / f"valid.src-tgt.{suffix}.{ext}", data / f"test.src-tgt.{suffix}.{ext}"
            )
    return data


@pytest.fixture(scope="session")
def text_dir(data_bin) -> Path:
    return data_bin.parent / "text"


@pytest.fixture(scope="session")
def trained(data_bin, tmp_path_factory) -> Path:
    """A save dir with checkpoint1.pt, checkpoint2.pt and checkpoint_last.pt of a tiny model."""
    from seqcore.cli.main import main

    save_dir = tmp_path_factory.mktemp("faults-model")
    with pytest.raises(SystemExit) as done:
        main(["train", str(data_bin), *TINY, "--save-dir", str(save_dir), "--max-epoch", "2"])
    assert done.value.code == 0
    return save_dir
