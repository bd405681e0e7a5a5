"""A table of malformed checkpoints through every command that reads checkpoints: each is a
one-line error naming the file, exit status 1, nothing written, and nothing in it executed."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from faults.conftest import TINY, error_line, seqcore


class _Payload:
    """Pickles as a call of ``open(path, "w")``: loading it would create ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _good(trained: Path) -> dict:
    return torch.load(trained / "checkpoint_last.pt", weights_only=True)


def _write(path: Path, state: dict) -> Path:
    torch.save(state, path)
    return path


def _another_model(state: dict) -> dict:
    """The weights of a model with two encoder layers where this one has one."""
    weights = dict(state["model"])
    for key in list(weights):
        if key.startswith("encoder.layers.0."):
            weights[key.replace("layers.0.", "layers.1.")] = weights[key].clone()
    return {**state, "model": weights}


def _make(kind: str, trained: Path, folder: Path) -> Path:
    path = folder / f"{kind}.pt"
    state = _good(trained)
    first = next(iter(state["model"]))
    if kind == "missing-model":
        return _write(path, {k: v for k, v in state.items() if k != "model"})
    if kind == "missing-cfg":
        return _write(path, {k: v for k, v in state.items() if k != "cfg"})
    if kind == "cfg-a-string":
        return _write(path, {**state, "cfg": "transformer"})
    if kind == "weight-a-string":
        return _write(path, {**state, "model": {**state["model"], first: "zeros"}})
    if kind == "wrong-shape":
        return _write(path, {**state, "model": {**state["model"], first: torch.zeros(3, 5)}})
    if kind == "another-model":
        return _write(path, _another_model(state))
    if kind == "truncated":
        data = (trained / "checkpoint_last.pt").read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    if kind == "zero-bytes":
        path.write_bytes(b"")
        return path
    if kind == "code-in-zip":
        return _write(path, {**state, "payload": _Payload(str(folder / "ran"))})
    if kind == "code-in-raw-pickle":
        path.write_bytes(
            pickle.dumps({"model": {}, "seqcore": {}, "x": _Payload(str(folder / "ran"))})
        )
        return path
    raise AssertionError(kind)


# what the one line says, per kind (after the file's name)
EXPECTED = {
    "missing-model": "is not a seqcore checkpoint",
    "missing-cfg": "has no configuration ('cfg')",
    "cfg-a-string": "'cfg' is a str, not a table",
    "weight-a-string": "is a str, not a tensor",
    "wrong-shape": "has shape (3, 5) in the checkpoint",
    "another-model": "does not fit the model built here: missing [], unexpected ['encoder.layers.1",
    "truncated": "corrupt or truncated",
    "zero-bytes": "empty (0 bytes)",
    "code-in-zip": "holds code (io.open) that would run when loaded; it was not loaded",
    "code-in-raw-pickle": "holds pickled objects that could run code when loaded; it was not",
}
# average-checkpoints compares its inputs with one another, not with a model
AVERAGE_EXPECTED = {
    "wrong-shape": "has shape (16, 16), but (3, 5) in",
    "another-model": "holds other weights than",
}
# inference commands look at the file's format first: one that is not torch.save's zip
# container is not a seqcore checkpoint, and is not opened at all
NOT_ZIP = {"truncated", "zero-bytes", "code-in-raw-pickle"}
# train builds its model from the command line: the saved configuration is not read
TRAIN_IGNORES = {"missing-cfg"}

COMMANDS = ["train --restore-file", "train --finetune-from-model", "generate", "interactive",
            "eval-lm", "average-checkpoints"]  # fmt: skip


def _argv(command: str, data_bin: Path, checkpoint: Path, trained: Path, out: Path) -> list:
    if command.startswith("train"):
        flag = command.split()[1]
        return ["train", data_bin, *TINY, "--save-dir", out, flag, checkpoint, "--max-update", "1"]
    if command == "generate":
        return ["generate", data_bin, "--path", checkpoint, "--results-path", out]
    if command in ("interactive", "eval-lm"):
        return [command, data_bin, "--path", checkpoint]
    return ["average-checkpoints", "--inputs", checkpoint, trained / "checkpoint1.pt",
            "--output", out / "averaged.pt"]  # fmt: skip


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("command", COMMANDS)
def test_a_malformed_checkpoint_is_one_line_and_nothing_is_written(
    command, kind, data_bin, trained, tmp_path, capsys
):
    if command.startswith("train") and kind in TRAIN_IGNORES:
        pytest.skip("train builds its model from its own flags and ignores the saved 'cfg'")
    checkpoint = _make(kind, trained, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    status, _, err = seqcore(capsys, *_argv(command, data_bin, checkpoint, trained, out))
    line = error_line(err)
    assert status == 1
    assert str(checkpoint) in line
    inference = command in ("generate", "interactive", "eval-lm")
    expected = "is not a seqcore checkpoint" if inference and kind in NOT_ZIP else EXPECTED[kind]
    if command == "average-checkpoints":
        expected = AVERAGE_EXPECTED.get(kind, expected)
    assert expected in line
    assert "weights_only" not in err and "Traceback" not in err
    assert not (tmp_path / "ran").exists()
    assert [p for p in out.rglob("*") if p.is_file()] == []
