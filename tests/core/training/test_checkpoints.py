"""Checkpoint files: atomic writes that survive a full disk, fairseq's names and retention."""

import errno
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from seqcore import safe_files
from seqcore.errors import CheckpointError, OutputError
from seqcore.training import checkpoint_io
from seqcore.training.checkpoint_io import atomic_save, load_checkpoint_file
from seqcore.training.checkpoints import CheckpointManager
from seqcore.training.config import CheckpointConfig


def _state(value):
    return {"seqcore": {"version": "test"}, "model": {"w": torch.full((3,), float(value))}}


def test_a_full_disk_leaves_the_previous_checkpoint_intact_and_no_temporary_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "checkpoint_last.pt"
    atomic_save(_state(1), path)

    def disk_full(obj, f):
        f.write(b"partial bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_io.torch, "save", disk_full)
    with pytest.raises(OutputError) as e:
        atomic_save(_state(2), path)
    monkeypatch.undo()
    assert str(e.value).startswith(f"cannot write checkpoint {path}: No space left on device (")
    assert f" free on {tmp_path}); nothing was written there and earlier files are intact" in str(
        e.value
    )
    assert torch.equal(load_checkpoint_file(path)["model"]["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_last.pt"]


def test_a_full_disk_seen_through_torch_save_is_one_line_too(tmp_path, monkeypatch):
    """torch.save turns the OSError of a full disk into a RuntimeError from its zip writer
    (chained to the OSError): the real torch.save, writing into a file that fills up."""
    path = tmp_path / "checkpoint_last.pt"
    real_open = open

    class FillingFile:
        def __init__(self, f):
            self.f, self.written = f, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 100:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(checkpoint_io, "open", lambda *a, **k: FillingFile(real_open(*a, **k)),
                        raising=False)  # fmt: skip
    big = {"seqcore": {}, "model": {"w": torch.zeros(10_000)}}
    with pytest.raises(OutputError, match="^cannot write checkpoint .*: No space left on device"):
        atomic_save(big, path)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_is_one_line_and_the_cleanup_does_not_raise(tmp_path, monkeypatch):
    """Tests may run as root, where a chmod'ed folder is still writable: a read-only file system
    is simulated by os.replace and os.unlink refusing with EROFS (the real one is in
    tests/faults/test_file_systems.py)."""

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(safe_files.os, "replace", read_only)
    monkeypatch.setattr(safe_files.os, "unlink", read_only)
    monkeypatch.setattr(safe_files.shutil, "rmtree", read_only)
    with pytest.raises(OutputError, match="Read-only file system"):
        atomic_save(_state(1), tmp_path / "avg.pt")


def test_ctrl_c_while_writing_finishes_the_checkpoint_then_interrupts(tmp_path, monkeypatch):
    """A SIGINT inside torch.save would surface as a RuntimeError from its zip writer; it is
    held back until the new checkpoint is complete, then raised as KeyboardInterrupt."""
    path = tmp_path / "checkpoint_last.pt"
    real_save = torch.save

    def interrupted_save(obj, f):
        f.write(b"")
        os.kill(os.getpid(), signal.SIGINT)
        real_save(obj, f)

    monkeypatch.setattr(checkpoint_io.torch, "save", interrupted_save)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        atomic_save(_state(2), path)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is handler
    assert torch.equal(load_checkpoint_file(path)["model"]["w"], torch.full((3,), 2.0))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_last.pt"]


def test_ctrl_c_during_the_copies_of_a_save_finishes_the_whole_save(tmp_path, monkeypatch):
    """Ctrl-C while checkpoint_last.pt is being copied: the copy, the other copies and the
    pruning are done first, then the run is interrupted."""
    m = _manager(tmp_path, save_interval_updates=1, keep_interval_updates=1)
    m.save(_state(1), epoch=1, num_updates=1, end_of_epoch=False, metric=None)
    real_copy = checkpoint_io.atomic_copy
    calls = []

    def interrupted_copy(source, target):
        calls.append(target)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        real_copy(source, target)

    monkeypatch.setattr("seqcore.training.checkpoints.atomic_copy", interrupted_copy)
    with pytest.raises(KeyboardInterrupt):
        m.save(_state(2), epoch=1, num_updates=2, end_of_epoch=False, metric=2.0)
    assert _names(tmp_path) == ["checkpoint_1_2.pt", "checkpoint_best.pt", "checkpoint_last.pt"]
    for name in _names(tmp_path):
        assert load_checkpoint_file(tmp_path / name)["model"]["w"][0] == 2.0


def test_leftovers_of_killed_runs_are_removed_when_their_process_is_gone(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(gone.stdout)
    (tmp_path / f".checkpoint_3.pt.tmp-{dead}").write_bytes(b"x" * 1000)
    (tmp_path / f".preprocess-{dead}-abc123").mkdir()
    (tmp_path / f".preprocess-{dead}-abc123" / "dict.de.txt").write_text("a 1\n")
    alive = tmp_path / f".checkpoint_4.pt.tmp-{os.getppid()}"  # a process that runs
    alive.write_bytes(b"y")
    (tmp_path / "checkpoint_2.pt").write_bytes(b"z")
    removed = safe_files.remove_leftovers(tmp_path)
    assert removed == [f".checkpoint_3.pt.tmp-{dead}", f".preprocess-{dead}-abc123"]
    assert _names(tmp_path) == [alive.name, "checkpoint_2.pt"]
    _manager(tmp_path)  # prepare() cleans up too: nothing more is removed
    assert _names(tmp_path) == [alive.name, "checkpoint_2.pt"]


def test_not_a_seqcore_checkpoint(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(2)}, other)
    with pytest.raises(CheckpointError, match="is not a seqcore checkpoint"):
        load_checkpoint_file(other)
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint_file(tmp_path / "missing.pt")


def _manager(tmp_path, **overrides):
    cfg = CheckpointConfig(save_dir=str(tmp_path), **overrides)
    manager = CheckpointManager(cfg)
    manager.prepare()
    return manager


def _names(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


def test_epoch_and_update_checkpoint_names_follow_fairseq(tmp_path):
    m = _manager(tmp_path, save_interval_updates=2)
    m.save(_state(0), epoch=1, num_updates=2, end_of_epoch=False, metric=None)
    m.save(_state(0), epoch=1, num_updates=3, end_of_epoch=True, metric=2.5)
    assert _names(tmp_path) == [
        "checkpoint1.pt",
        "checkpoint_1_2.pt",
        "checkpoint_best.pt",
        "checkpoint_last.pt",
    ]


def test_keep_last_epochs_and_keep_interval_updates(tmp_path):
    m = _manager(tmp_path, keep_last_epochs=2, save_interval_updates=1, keep_interval_updates=2)
    for update in range(1, 5):
        m.save(_state(update), epoch=1, num_updates=update, end_of_epoch=False, metric=None)
    for epoch in range(1, 5):
        m.save(_state(epoch), epoch=epoch, num_updates=10 * epoch, end_of_epoch=True, metric=None)
    assert _names(tmp_path) == [
        "checkpoint3.pt",
        "checkpoint4.pt",
        "checkpoint_1_3.pt",
        "checkpoint_1_4.pt",
        "checkpoint_last.pt",
    ]


@pytest.mark.parametrize(
    "maximize, kept", [(False, ["1.000", "2.000"]), (True, ["3.000", "4.000"])]
)
def test_keep_best_checkpoints_by_the_metric(tmp_path, maximize, kept):
    m = _manager(
        tmp_path,
        keep_best_checkpoints=2,
        maximize_best_checkpoint_metric=maximize,
        no_epoch_checkpoints=True,
    )
    for epoch, score in enumerate([3.0, 1.0, 4.0, 2.0], start=1):
        m.save(_state(score), epoch=epoch, num_updates=epoch, end_of_epoch=True, metric=score)
    best = [n for n in _names(tmp_path) if n.startswith("checkpoint.best_")]
    assert best == [f"checkpoint.best_loss_{k}.pt" for k in kept]
    expected_best = 4.0 if maximize else 1.0
    assert load_checkpoint_file(tmp_path / "checkpoint_best.pt")["model"]["w"][0] == expected_best


def test_no_save_writes_nothing(tmp_path):
    m = _manager(tmp_path / "ck", no_save=True)
    assert m.save(_state(0), epoch=1, num_updates=1, end_of_epoch=True, metric=1.0) == []
    assert not (tmp_path / "ck").exists()


def test_restore_file_must_exist_unless_it_is_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _manager(tmp_path / "ck").restore_path() is None
    with pytest.raises(CheckpointError) as e:
        _manager(tmp_path / "ck", restore_file="nope.pt").restore_path()
    assert str(e.value) == (
        f"--restore-file nope.pt: no such checkpoint (neither nope.pt nor {tmp_path}/ck/nope.pt "
        "exists)"
    )
    absent = tmp_path / "elsewhere" / "x.pt"
    with pytest.raises(CheckpointError) as e:
        _manager(tmp_path / "ck", restore_file=str(absent)).restore_path()
    assert str(e.value) == f"--restore-file {absent}: no such checkpoint ({absent} exists)"


def test_restore_file_is_a_path_or_a_name_in_the_save_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "in_save_dir.pt").write_bytes(b"")
    (tmp_path / "here.pt").write_bytes(b"")
    assert _manager(tmp_path / "ck", restore_file="here.pt").restore_path() == Path("here.pt")
    found = _manager(tmp_path / "ck", restore_file="in_save_dir.pt").restore_path()
    assert found == tmp_path / "ck" / "in_save_dir.pt"


def test_checkpoint_config_is_a_dataclass_with_fairseq_defaults():
    cfg = CheckpointConfig()
    expected = SimpleNamespace(
        save_dir="checkpoints",
        restore_file="checkpoint_last.pt",
        save_interval=1,
        keep_last_epochs=-1,
        patience=-1,
    )
    for key, value in vars(expected).items():
        assert getattr(cfg, key) == value
