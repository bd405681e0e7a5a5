"""The full and read-only disks of test_file_systems.py, simulated in-process: for places where
a tmpfs cannot be mounted, and for tests run as root (where a chmod'ed folder stays writable).

Inside one folder, files opened for writing fill up after a few KiB (ENOSPC) or are refused
outright (EROFS), as are mkdir, rename and unlink there; everything else is untouched."""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path

import pytest
from faults.conftest import TINY, error_line, seqcore


class _FillingFile:
    """A file that takes ``room`` more bytes, then fails as a full disk does."""

    def __init__(self, f, room: list[int]) -> None:
        self._f, self._room = f, room

    def write(self, data) -> int:
        self._room[0] -= len(data)
        if self._room[0] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()

    def __iter__(self):
        return iter(self._f)


def _simulate(monkeypatch, folder: Path, kind: str, room: int = 4096) -> None:
    real_open, real_mkdir = builtins.open, os.mkdir
    real_replace, real_unlink = os.replace, os.unlink
    left = [room]

    def inside(path) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.path.abspath(path).startswith(
            str(folder)
        )

    def refused(path) -> OSError:
        return OSError(errno.EROFS, "Read-only file system", str(path))

    def fake_open(path, mode="r", *args, **kwargs):
        writing = any(c in mode for c in "wax+")
        if writing and inside(path):
            if kind == "read-only":
                raise refused(path)
            return _FillingFile(real_open(path, mode, *args, **kwargs), left)
        return real_open(path, mode, *args, **kwargs)

    def guarded(real):
        def call(path, *args, **kwargs):
            if kind == "read-only" and inside(path):
                raise refused(path)
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", guarded(real_mkdir))
    monkeypatch.setattr(os, "replace", guarded(real_replace))
    monkeypatch.setattr(os, "unlink", guarded(real_unlink))


def _argv(writer: str, data_bin: Path, text: Path, trained: Path, out: Path) -> list:
    if writer == "train":
        return ["train", data_bin, *TINY, "--save-dir", out, "--max-update", "2"]
    if writer == "preprocess":
        return ["preprocess", "-s", "src", "-t", "tgt", "--trainpref", text / "train",
                "--validpref", text / "valid", "--destdir", out]  # fmt: skip
    if writer == "generate":
        return ["generate", data_bin, "--path", trained / "checkpoint_last.pt",
                "--results-path", out]  # fmt: skip
    return ["average-checkpoints", "--inputs", trained / "checkpoint1.pt",
            trained / "checkpoint2.pt", "--output", out / "averaged.pt"]  # fmt: skip


WRITERS = ["train", "preprocess", "generate", "average-checkpoints"]
ROOM = {"train": 4096, "preprocess": 200, "generate": 0, "average-checkpoints": 4096}


@pytest.mark.parametrize("kind", ["full", "read-only"])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_refused_write_is_one_line_and_leaves_nothing(
    writer, kind, data_bin, text_dir, trained, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    # room for a part of what each writes: checkpoints are ~100 KiB, preprocess's files less
    # than 1 KiB in all, generate's results a few hundred bytes (its disk is full at once)
    _simulate(monkeypatch, out, kind, room=ROOM[writer])
    status, _, err = seqcore(capsys, *_argv(writer, data_bin, text_dir, trained, out))
    monkeypatch.undo()
    line = error_line(err)
    assert status == 1
    reason = "No space left on device" if kind == "full" else "Read-only file system"
    assert "cannot write " in line and str(out) in line and reason in line, line
    assert " free on " in line, line
    assert list(out.iterdir()) == []
