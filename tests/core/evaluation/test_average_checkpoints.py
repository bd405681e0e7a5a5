"""`seqcore average-checkpoints`: the mean of the weights, the rest of the newest checkpoint."""

from __future__ import annotations

import pytest
import torch
from core.evaluation.helpers import COPY_MODEL, parse_generation, train
from support import run_cli

from seqcore.checkpoint_utils import load_checkpoint_file


@pytest.fixture(scope="module")
def epochs(copy_data, tmp_path_factory):
    """A run with checkpoint1.pt ... checkpoint4.pt."""
    save_dir = tmp_path_factory.mktemp("epochs")
    args = [a for a in COPY_MODEL if a != "--no-epoch-checkpoints"]
    train(copy_data, save_dir, *args, "--max-epoch", "4")
    return save_dir


def _mean(paths):
    states = [load_checkpoint_file(p)["model"] for p in paths]
    return {
        k: (sum(s[k].double() for s in states) / len(states)).to(states[0][k].dtype)
        for k in states[0]
    }


def _average(*args):
    result = run_cli("average-checkpoints", *args)
    assert result.returncode == 0, result.stderr
    return result


def _assert_weights(path, expected):
    weights = load_checkpoint_file(path)["model"]
    assert weights.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(weights[key], expected[key], rtol=1e-6, atol=1e-7)


def test_explicit_inputs_are_averaged_and_the_newest_state_kept(epochs, tmp_path):
    inputs = [epochs / f"checkpoint{e}.pt" for e in (1, 3, 2)]
    out = tmp_path / "avg.pt"
    _average("--inputs", *map(str, inputs), "--output", str(out))
    _assert_weights(out, _mean(inputs))
    state = load_checkpoint_file(out)
    newest = load_checkpoint_file(epochs / "checkpoint3.pt")
    assert state["extra_state"]["epoch"] == 3
    assert state["num_updates"] == newest["num_updates"]
    assert state["cfg"] == newest["cfg"]
    # the comma-separated form means the same
    _average("--inputs", ",".join(map(str, inputs)), "--output", str(tmp_path / "b.pt"))
    _assert_weights(tmp_path / "b.pt", _mean(inputs))


def test_num_epoch_checkpoints_takes_the_last_n(epochs, tmp_path):
    out = tmp_path / "avg.pt"
    result = _average("--inputs", str(epochs), "--num-epoch-checkpoints", "2", "--output", str(out))
    last_two = [epochs / "checkpoint4.pt", epochs / "checkpoint3.pt"]
    assert f"averaging checkpoints: {last_two[0]}, {last_two[1]}" in result.stdout
    _assert_weights(out, _mean(last_two))
    bounded = tmp_path / "bounded.pt"
    _average(
        "--inputs", str(epochs), "--num-epoch-checkpoints", "2", "--checkpoint-upper-bound",
        "2", "--output", str(bounded),
    )  # fmt: skip
    _assert_weights(bounded, _mean([epochs / "checkpoint2.pt", epochs / "checkpoint1.pt"]))


def test_the_averaged_checkpoint_generates(epochs, copy_data, tmp_path):
    out = tmp_path / "avg.pt"
    _average("--inputs", str(epochs), "--num-epoch-checkpoints", "3", "--output", str(out))
    result = run_cli("generate", str(copy_data), "--path", str(out), "--max-len-b", "10")
    assert result.returncode == 0, result.stderr
    assert len(parse_generation(result.stdout)["H"]) == 40


def test_errors_are_one_line(epochs, tmp_path):
    out = str(tmp_path / "avg.pt")
    result = run_cli(
        "average-checkpoints", "--inputs", str(epochs), "--num-epoch-checkpoints", "9",
        "--output", out,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        f"seqcore: error: --inputs {epochs} holds 4 checkpointN.pt files but 9 are to be averaged\n"
    )
    result = run_cli(
        "average-checkpoints", "--inputs", str(epochs), "--num-epoch-checkpoints", "2",
        "--num-update-checkpoints", "2", "--output", out,
    )  # fmt: skip
    assert result.returncode == 1 and "exclude each other" in result.stderr
    result = run_cli("average-checkpoints", "--inputs", str(epochs / "nope.pt"), "--output", out)
    assert result.returncode == 1
    assert result.stderr == f"seqcore: error: checkpoint {epochs / 'nope.pt'}: no such file\n"
