"""The save policy of a training run: fairseq's checkpoint names, keep-last-N and keep-best
retention, ``--restore-file``, and a save that Ctrl-C cannot leave half done."""

import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from seqcore import safe_files
from seqcore.checkpoint_utils import CheckpointManager, files, load_checkpoint_file
from seqcore.errors import CheckpointError
from seqcore.training.config import CheckpointConfig


def _state(value):
    return {"seqcore": {"version": "test"}, "model": {"w": torch.full((3,), float(value))}}


def test_ctrl_c_during_the_copies_of_a_save_finishes_the_whole_save(
    tmp_path, monkeypatch, ctrl_c_raises
):
    """Ctrl-C while checkpoint_last.pt is being copied: the copy, the other copies and the
    pruning are done first, then the run is interrupted."""
    m = _manager(tmp_path, save_interval_updates=1, keep_interval_updates=1)
    m.save(_state(1), epoch=1, num_updates=1, end_of_epoch=False, metric=None)
    real_copy = files.atomic_copy
    calls = []

    def interrupted_copy(source, target):
        calls.append(target)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        real_copy(source, target)

    monkeypatch.setattr("seqcore.checkpoint_utils.manager.atomic_copy", interrupted_copy)
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


def test_checkpoint_best_is_written_only_when_the_metric_improves(tmp_path):
    m = _manager(tmp_path, no_epoch_checkpoints=True)
    written = [
        [p.name for p in m.save(_state(e), epoch=e, num_updates=e, end_of_epoch=True, metric=s)]
        for e, s in enumerate([2.0, 3.0, 1.5], start=1)
    ]
    assert written == [
        ["checkpoint_best.pt", "checkpoint_last.pt"],
        ["checkpoint_last.pt"],
        ["checkpoint_best.pt", "checkpoint_last.pt"],
    ]
    best = load_checkpoint_file(tmp_path / "checkpoint_best.pt")
    assert best["model"]["w"][0] == 3.0 and best["extra_state"]["best"] == 1.5
    last = load_checkpoint_file(tmp_path / "checkpoint_last.pt")
    assert last["extra_state"]["best"] == 1.5  # a resumed run goes on comparing with it


def test_save_interval_and_no_last_checkpoints(tmp_path):
    m = _manager(tmp_path, save_interval=2, no_last_checkpoints=True)
    for epoch in range(1, 5):
        m.save(_state(epoch), epoch=epoch, num_updates=epoch, end_of_epoch=True, metric=None)
    assert _names(tmp_path) == ["checkpoint2.pt", "checkpoint4.pt"]


def test_a_save_with_no_file_due_writes_nothing(tmp_path):
    """Only checkpoint_best.pt kept (--no-epoch-checkpoints --no-last-checkpoints) and the
    metric does not improve: nothing is written, nothing fails."""
    m = _manager(tmp_path, no_epoch_checkpoints=True, no_last_checkpoints=True)
    m.save(_state(1), epoch=1, num_updates=1, end_of_epoch=True, metric=1.0)
    assert m.save(_state(2), epoch=2, num_updates=2, end_of_epoch=True, metric=2.0) == []
    assert _names(tmp_path) == ["checkpoint_best.pt"]
    assert load_checkpoint_file(tmp_path / "checkpoint_best.pt")["model"]["w"][0] == 1.0


def test_only_rank_0_writes_but_every_rank_knows_the_best(tmp_path):
    cfg = CheckpointConfig(save_dir=str(tmp_path / "ck"))
    other_rank = CheckpointManager(cfg, is_master=False)
    other_rank.prepare()
    assert other_rank.save(_state(0), epoch=1, num_updates=1, end_of_epoch=True, metric=2.0) == []
    assert other_rank.best == 2.0 and not (tmp_path / "ck").exists()


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
