"""Data folders and models made once per session for the evaluation commands' tests.

- ``copy_data``: a copy task (target == source) over 12 words, train/valid/test splits;
- ``copy_model``: a tiny transformer trained on it until it copies (BLEU > 90);
- ``lm_data`` / ``lm_model``: a language-modeling folder (dict.txt, <split>.bin/.idx) and a tiny
  transformer_lm trained a few updates on it;
- ``spm_data`` / ``spm_model``: a folder made by ``seqcore preprocess --bpe sentencepiece`` and a
  model trained a few updates on it;
- ``moses_data`` / ``moses_model``: the copy task over Moses-tokenized words (``&apos;s``,
  ``@-@``, ...) and a model trained until it copies.

Each is built once per test run, also under pytest-xdist (tests/built_once.py): the two models
trained until they copy cost seconds each, and four test files of this folder use them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from built_once import build_once
from core.evaluation.helpers import (
    COPY_MODEL,
    MOSES_WORDS,
    TINY_LM,
    binarize,
    copy_splits,
    random_sentences,
    train,
)
from support import run_cli


def trained_once(request, tmp_path_factory, name: str, data: Path, args: list[str]) -> Path:
    """The last checkpoint of ``train data <args>`` into a folder built once per run (``name``)."""
    save_dir = build_once(request, tmp_path_factory, name, lambda f: train(data, f, *args))
    return save_dir / "checkpoint_last.pt"


@pytest.fixture(scope="session")
def copy_data(request, tmp_path_factory) -> Path:
    folder = build_once(
        request, tmp_path_factory, "copy", lambda f: binarize(f / "data-bin", copy_splits())
    )
    return folder / "data-bin"


@pytest.fixture(scope="session")
def copy_model(copy_data, request, tmp_path_factory) -> Path:
    args = [*COPY_MODEL, "--max-update", "150"]
    return trained_once(request, tmp_path_factory, "copy-model", copy_data, args)


@pytest.fixture(scope="session")
def lm_data(request, tmp_path_factory) -> Path:
    rng = random.Random(1)
    splits = {
        split: {None: random_sentences(n, rng, 2, 8)}
        for split, n in [("train", 200), ("valid", 20), ("test", 30)]
    }
    folder = build_once(request, tmp_path_factory, "lm", lambda f: binarize(f / "data-bin", splits))
    return folder / "data-bin"


@pytest.fixture(scope="session")
def lm_model(lm_data, request, tmp_path_factory) -> Path:
    args = [*TINY_LM, "--max-update", "30", "--no-epoch-checkpoints"]
    return trained_once(request, tmp_path_factory, "lm-model", lm_data, args)


# -- a sentencepiece data folder (seqcore preprocess --bpe sentencepiece) ------------------------
SPM_WORDS = [
    "the", "cat", "dog", "sat", "on", "mat", "and", "ran", "fast", "slow", "big", "small", "red",
    "blue", "green", "house", "tree", "bird", "sings", "loudly", "quietly", "over", "under",
]  # fmt: skip


def _spm_preprocessed(folder: Path) -> None:
    """Raw text in ``folder/text``, and ``seqcore preprocess --bpe sentencepiece`` of it in
    ``folder/data-bin``."""
    rng = random.Random(3)
    text = folder / "text"
    text.mkdir()
    for split, n in [("train", 300), ("valid", 10), ("test", 12)]:
        lines = [
            " ".join(rng.choice(SPM_WORDS) for _ in range(rng.randint(3, 7))) for _ in range(n)
        ]
        for lang in ("en", "de"):
            (text / f"{split}.{lang}").write_text("\n".join(lines) + "\n")
    dest = folder / "data-bin"
    result = run_cli(
        "preprocess", "-s", "en", "-t", "de", "--trainpref", str(text / "train"),
        "--validpref", str(text / "valid"), "--testpref", str(text / "test"),
        "--destdir", str(dest), "--bpe", "sentencepiece", "--bpe-vocab-size", "40",
        "--joined-dictionary",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (dest / "sentencepiece.model").is_file()


@pytest.fixture(scope="session")
def spm_data(request, tmp_path_factory):
    pytest.importorskip("sentencepiece")
    folder = build_once(request, tmp_path_factory, "spm", _spm_preprocessed)
    return folder / "data-bin", folder / "text"


@pytest.fixture(scope="session")
def spm_model(spm_data, request, tmp_path_factory):
    data, _ = spm_data
    args = [*COPY_MODEL, "--max-update", "10"]
    return trained_once(request, tmp_path_factory, "spm-model", data, args)


@pytest.fixture(scope="session")
def moses_data(request, tmp_path_factory) -> Path:
    folder = build_once(
        request,
        tmp_path_factory,
        "moses",
        lambda f: binarize(f / "data-bin", copy_splits(words=MOSES_WORDS)),
    )
    return folder / "data-bin"


@pytest.fixture(scope="session")
def moses_model(moses_data, request, tmp_path_factory) -> Path:
    args = [*COPY_MODEL, "--max-update", "150"]
    return trained_once(request, tmp_path_factory, "moses-model", moses_data, args)
