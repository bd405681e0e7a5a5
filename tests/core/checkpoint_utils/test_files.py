"""Checkpoint files: atomic writes that survive a full disk, a read-only folder and Ctrl-C,
and reads that run no pickled code and name the file at fault."""

import errno
import os
import signal

import pytest
import torch

from seqcore import safe_files
from seqcore.checkpoint_utils import atomic_save, files, load_checkpoint_file
from seqcore.errors import CheckpointError, OutputError


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

    monkeypatch.setattr(files.torch, "save", disk_full)
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

    monkeypatch.setattr(files, "open", lambda *a, **k: FillingFile(real_open(*a, **k)),
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


def test_a_process_that_ignores_ctrl_c_goes_on_ignoring_it_while_saving(tmp_path, monkeypatch):
    """Where SIGINT is ignored (a shell's background job), a Ctrl-C during a save neither stops
    the run after it nor leaves a handler behind."""
    real_save = torch.save

    def interrupted_save(obj, f):
        os.kill(os.getpid(), signal.SIGINT)
        real_save(obj, f)

    monkeypatch.setattr(files.torch, "save", interrupted_save)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        atomic_save(_state(3), tmp_path / "checkpoint_last.pt")
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    except KeyboardInterrupt:
        pytest.fail("a save raised KeyboardInterrupt although SIGINT is ignored")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert torch.equal(
        load_checkpoint_file(tmp_path / "checkpoint_last.pt")["model"]["w"], torch.full((3,), 3.0)
    )


def test_ctrl_c_while_writing_finishes_the_checkpoint_then_interrupts(
    tmp_path, monkeypatch, ctrl_c_raises
):
    """A SIGINT inside torch.save would surface as a RuntimeError from its zip writer; it is
    held back until the new checkpoint is complete, then raised as KeyboardInterrupt."""
    path = tmp_path / "checkpoint_last.pt"
    real_save = torch.save

    def interrupted_save(obj, f):
        f.write(b"")
        os.kill(os.getpid(), signal.SIGINT)
        real_save(obj, f)

    monkeypatch.setattr(files.torch, "save", interrupted_save)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        atomic_save(_state(2), path)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is handler
    assert torch.equal(load_checkpoint_file(path)["model"]["w"], torch.full((3,), 2.0))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_last.pt"]


def test_not_a_seqcore_checkpoint(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(2)}, other)
    with pytest.raises(CheckpointError, match="is not a seqcore checkpoint"):
        load_checkpoint_file(other)
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint_file(tmp_path / "missing.pt")


class _Payload:
    """Pickles as a call of ``open(path, "w")``: loading it would create ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_object_is_refused_unrun_with_one_line_naming_the_file(tmp_path):
    path, created = tmp_path / "evil.pt", tmp_path / "created-by-loading"
    torch.save({**_state(1), "extra_state": {"x": _Payload(str(created))}}, path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint_file(path)
    assert str(e.value) == (
        f"checkpoint {path} holds code (io.open) that would run when loaded; it was not "
        "loaded (seqcore checkpoints hold plain data only: tensors, numbers, strings)"
    )
    assert not created.exists()


def test_an_empty_or_truncated_file_is_one_line_with_the_remedy_given(tmp_path):
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint_file(empty)
    assert str(e.value) == f"checkpoint {empty} is empty (0 bytes); it was not loaded"
    whole = tmp_path / "whole.pt"
    atomic_save(_state(1), whole)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CheckpointError) as e:
        load_checkpoint_file(cut, remedy="use another one")
    assert str(e.value).startswith(f"checkpoint {cut} is corrupt or truncated (")
    assert str(e.value).endswith("); use another one") and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model": {"w": [1, 2]}}, "model entry 'w' is a list, not a tensor"),
        ({"cfg": {"configs": {}}}, "'cfg' has no table 'selections' (it is missing)"),
        ({"extra_state": [3]}, "'extra_state' is a list, not a table"),
    ],
)
def test_entries_of_the_wrong_type_are_malformed(tmp_path, change, message):
    path = tmp_path / "odd.pt"
    torch.save({**_state(1), **change}, path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint_file(path)
    assert str(e.value) == f"{path} is malformed: {message}"


def test_a_copy_is_a_file_of_its_own(tmp_path):
    source, target = tmp_path / "checkpoint_best.pt", tmp_path / "checkpoint_last.pt"
    atomic_save(_state(1), source)
    files.atomic_copy(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert not os.path.samefile(source, target)
    target.write_bytes(b"damaged")
    assert torch.equal(load_checkpoint_file(source)["model"]["w"], torch.ones(3))
