"""Kills and Ctrl-C during a tiny training that saves after every update: every checkpoint left
loads with ``weights_only=True``, the run resumes bitwise equal to one never interrupted, and
the next run removes the temporary files of a killed one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from faults.conftest import TINY, seqcore

# saves after every update, keeps three: kills land in writes, copies and pruning alike
SAVE_OFTEN = ["--max-update", "10", "--save-interval-updates", "1", "--no-epoch-checkpoints",
              "--keep-interval-updates", "3"]  # fmt: skip


def _train_argv(data_bin: Path, save_dir: Path) -> list:
    return ["train", data_bin, *TINY, "--save-dir", save_dir, *SAVE_OFTEN]


@pytest.fixture(scope="module")
def uninterrupted(data_bin, tmp_path_factory) -> dict:
    from seqcore.cli.main import main

    save_dir = tmp_path_factory.mktemp("uninterrupted")
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in _train_argv(data_bin, save_dir)])
    assert done.value.code == 0
    return torch.load(save_dir / "checkpoint_last.pt", weights_only=True)


def _assert_bitwise_equal(a: dict, b: dict) -> None:
    assert a["num_updates"] == b["num_updates"]
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for k, (x, y) in enumerate(zip(_tensors(a["optimizer"]), _tensors(b["optimizer"]))):
        assert torch.equal(x, y), f"optimizer tensor {k}"


def _tensors(value) -> list:
    if torch.is_tensor(value):
        return [value]
    if isinstance(value, dict):
        return [t for k in sorted(value, key=str) for t in _tensors(value[k])]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_random_sigkills_leave_loadable_checkpoints_and_resume_exactly(
    data_bin, uninterrupted, tmp_path, capsys
):
    rng = random.Random(os.getpid())
    save_dir = tmp_path / "ck"
    argv = [sys.executable, "-m", "seqcore", *map(str, _train_argv(data_bin, save_dir))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    last = save_dir / "checkpoint_last.pt"
    for _ in range(3):
        before = last.stat().st_mtime_ns if last.exists() else None
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if last.exists() and last.stat().st_mtime_ns != before:
                break  # it is saving: kill it within the next few saves
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path in save_dir.glob("*.pt"):
            torch.load(path, weights_only=True)  # every checkpoint left is complete
    left = _leftovers(save_dir)
    status, _, err = seqcore(capsys, *_train_argv(data_bin, save_dir))
    assert status == 0, err
    if left:
        assert "leftover(s) of earlier runs that were killed" in err
    assert _leftovers(save_dir) == []
    _assert_bitwise_equal(torch.load(last, weights_only=True), uninterrupted)


def test_ctrl_c_during_the_copies_of_a_save_leaves_a_consistent_set(
    data_bin, uninterrupted, tmp_path, capsys, monkeypatch, ctrl_c_raises
):
    """SIGINT while checkpoint_last.pt is being copied from the update checkpoint of update 5:
    the save completes (copy, pruning) before the run stops, and running again resumes there."""
    from seqcore.checkpoint_utils import manager

    real_copy = manager.atomic_copy

    def copy_with_ctrl_c(source, target):
        if Path(source).name == "checkpoint_2_5.pt":
            os.kill(os.getpid(), signal.SIGINT)
        real_copy(source, target)

    monkeypatch.setattr(manager, "atomic_copy", copy_with_ctrl_c)
    save_dir = tmp_path / "ck"
    status, _, err = seqcore(capsys, *_train_argv(data_bin, save_dir))
    assert status == 130 and err.splitlines()[-1] == "seqcore: interrupted"
    names = sorted(p.name for p in save_dir.iterdir())
    assert names == ["checkpoint_1_2.pt", "checkpoint_1_3.pt", "checkpoint_2_5.pt",
                     "checkpoint_last.pt"]  # fmt: skip
    last = torch.load(save_dir / "checkpoint_last.pt", weights_only=True)
    assert last["num_updates"] == 5
    _assert_bitwise_equal(last, torch.load(save_dir / "checkpoint_2_5.pt", weights_only=True))
    monkeypatch.undo()
    status, _, err = seqcore(capsys, *_train_argv(data_bin, save_dir))
    assert status == 0 and "update 5" in err
    _assert_bitwise_equal(torch.load(save_dir / "checkpoint_last.pt", weights_only=True),
                          uninterrupted)  # fmt: skip
