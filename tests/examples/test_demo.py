"""``nox -s demo`` ends with the run's loss curves: its ``seqcore train`` (a progress bar on the
console) leaves every report in ``--log-file``, and the demo draws them next to the
checkpoints. Run here with the demo's own train arguments on a tiny corpus, for a few updates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from support import run_cli

from seqcore.evaluation.curves import read_curves

pytest.importorskip("matplotlib")
pytest.importorskip("seqcore_transformer")
pytest.importorskip("seqcore_adam")

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"
WORDS = [
    "the",
    "king",
    "and",
    "queen",
    "of",
    "england",
    "went",
    "to",
    "see",
    "a",
    "play",
    "about",
    "love",
    "war",
    "and",
    "fortune",
]


def _demo():
    spec = importlib.util.spec_from_file_location("seqcore_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_training_log_becomes_a_picture_next_to_the_checkpoints(tmp_path: Path):
    demo = _demo()
    text = tmp_path / "text"
    text.mkdir()
    for split, count in [("train", 40), ("valid", 8), ("test", 8)]:
        lines = [
            " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + i % 5)) for i in range(count)
        ]
        (text / f"{split}.en").write_text("\n".join(lines) + "\n")
        pig = [" ".join(demo.pig_latin(w) for w in line.split()) for line in lines]
        (text / f"{split}.pl").write_text("\n".join(pig) + "\n")
    data = tmp_path / "data-bin"
    prefixes = [f"--{s}pref" for s in ("train", "valid", "test")]
    preprocess = run_cli(
        "preprocess",
        *["-s", "en", "-t", "pl", "--joined-dictionary", "--destdir", str(data)],
        *[arg for flag in prefixes for arg in (flag, str(text / flag[2:-4]))],
    )
    assert preprocess.returncode == 0, preprocess.stderr
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    # the demo's arguments, a few updates, a report after each
    train = run_cli("train", *demo.train_args(data, checkpoints, 3), "--log-interval", "1")
    assert train.returncode == 0, train.stderr
    assert "{" not in train.stdout  # the console kept its own format
    curves = read_curves(checkpoints / "train.log")
    assert [n for n, _ in curves.train_loss] == [1, 2, 3]
    assert curves.valid_loss[-1][0] == 3  # (the tiny corpus is one update an epoch: each validates)
    assert len(curves.lr) == 3
    picture = demo.plot_curves(checkpoints)
    assert picture == checkpoints / "curves.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
