"""The kit as a plug-in author uses it: loaded with ``-p seqcore.testing`` into a pytest run of
their own tests, whose fixtures build data folders and run ``seqcore`` commands in-process."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path

import pytest

AUTHOR_TESTS = """
import json


def test_train_and_generate_translation(tiny_translation_data, seqcore_cli, tmp_path):
    save = tmp_path / "ckpt"
    train = seqcore_cli(
        "train", str(tiny_translation_data), "--arch", "toy_tiny", "--optimizer", "sgd",
        "--lr", "0.1", "--max-tokens", "64", "--max-update", "3", "--save-dir", str(save),
        "--log-format", "json", "--num-workers", "0",
    )
    assert train.returncode == 0, train.stderr
    assert (save / "checkpoint_last.pt").exists()
    gen = seqcore_cli(
        "generate", str(tiny_translation_data), "--path", str(save / "checkpoint_last.pt"),
        "--beam", "2", "--max-tokens", "64",
    )
    assert gen.returncode == 0, gen.stderr
    assert sum(line.startswith("H-") for line in gen.stdout.splitlines()) == 16


def test_language_model_data(tiny_lm_data, seqcore_cli, tmp_path):
    names = sorted(p.name for p in tiny_lm_data.iterdir())
    assert names == ["dict.txt", "test.bin", "test.idx", "train.bin", "train.idx",
                     "valid.bin", "valid.idx"]
    train = seqcore_cli(
        "train", str(tiny_lm_data), "--task", "language_modeling", "--arch", "lstm_lm",
        "--decoder-embed-dim", "8", "--decoder-hidden-size", "8", "--decoder-out-embed-dim", "8",
        "--optimizer", "sgd", "--lr", "0.1", "--max-tokens", "64", "--max-update", "2",
        "--tokens-per-sample", "16", "--save-dir", str(tmp_path / "lm"), "--num-workers", "0",
    )
    assert train.returncode == 0, train.stderr
"""


def run_pytest(args: list[str]) -> int:
    """pytest.main in this process; seqcore's console log handler, created during the inner
    run on the inner run's (then closed) stderr, is pointed at the process's stderr."""
    try:
        return pytest.main(args)
    finally:
        for handler in logging.getLogger("seqcore").handlers:
            if type(handler) is logging.StreamHandler:
                handler.stream = sys.__stderr__  # not setStream: it flushes the closed stream


def test_author_tests_use_the_kit_fixtures(tmp_path: Path, monkeypatch):
    tests = tmp_path / "author"
    tests.mkdir()
    (tests / "test_author.py").write_text(textwrap.dedent(AUTHOR_TESTS))
    monkeypatch.chdir(tests)
    code = run_pytest(["-q", "-p", "seqcore.testing", "-p", "no:cacheprovider", str(tests)])
    assert code == pytest.ExitCode.OK


def test_without_the_kit_its_fixtures_are_unknown(tmp_path: Path, monkeypatch, capsys):
    tests = tmp_path / "unrelated"
    tests.mkdir()
    (tests / "test_unrelated.py").write_text("def test_x(tiny_lm_data):\n    pass\n")
    monkeypatch.chdir(tests)
    code = run_pytest(["-q", "-p", "no:cacheprovider", str(tests)])
    assert code == pytest.ExitCode.TESTS_FAILED
    assert "fixture 'tiny_lm_data' not found" in capsys.readouterr().out
