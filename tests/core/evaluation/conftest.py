"""Data folders and models made once per session for the evaluation commands' tests.

- ``copy_data``: a copy task (target == source) over 12 words, train/valid/test splits;
- ``copy_model``: a tiny transformer trained on it until it copies (BLEU > 90);
- ``lm_data`` / ``lm_model``: a language-modeling folder (dict.txt, <split>.bin/.idx) and a tiny
  transformer_lm trained a few updates on it;
- ``spm_data`` / ``spm_model``: a folder made by ``seqcore preprocess --bpe sentencepiece`` and a
  model trained a few updates on it;
- ``moses_data`` / ``moses_model``: the copy task over Moses-tokenized words (``&apos;s``,
  ``@-@``, ...) and a model trained until it copies.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
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


@pytest.fixture(scope="session")
def copy_data(tmp_path_factory) -> Path:
    return binarize(tmp_path_factory.mktemp("copy") / "data-bin", copy_splits())


@pytest.fixture(scope="session")
def copy_model(copy_data, tmp_path_factory) -> Path:
    save_dir = tmp_path_factory.mktemp("copy-model")
    return train(copy_data, save_dir, *COPY_MODEL, "--max-update", "150")


@pytest.fixture(scope="session")
def lm_data(tmp_path_factory) -> Path:
    rng = random.Random(1)
    splits = {
        split: {None: random_sentences(n, rng, 2, 8)}
        for split, n in [("train", 200), ("valid", 20), ("test", 30)]
    }
    return binarize(tmp_path_factory.mktemp("lm") / "data-bin", splits)


@pytest.fixture(scope="session")
def lm_model(lm_data, tmp_path_factory) -> Path:
    save_dir = tmp_path_factory.mktemp("lm-model")
    return train(lm_data, save_dir, *TINY_LM, "--max-update", "30", "--no-epoch-checkpoints")


# -- a sentencepiece data folder (seqcore preprocess --bpe sentencepiece) ------------------------
SPM_WORDS = [
    "the", "cat", "dog", "sat", "on", "mat", "and", "ran", "fast", "slow", "big", "small", "red",
    "blue", "green", "house", "tree", "bird", "sings", "loudly", "quietly", "over", "under",
]  # fmt: skip


@pytest.fixture(scope="session")
def spm_data(tmp_path_factory):
    import random

    pytest.importorskip("sentencepiece")
    rng = random.Random(3)
    text = tmp_path_factory.mktemp("spm-text")
    for split, n in [("train", 300), ("valid", 10), ("test", 12)]:
        lines = [
            " ".join(rng.choice(SPM_WORDS) for _ in range(rng.randint(3, 7))) for _ in range(n)
        ]
        for lang in ("en", "de"):
            (text / f"{split}.{lang}").write_text("\n".join(lines) + "\n")
    dest = tmp_path_factory.mktemp("spm") / "data-bin"
    result = run_cli(
        "preprocess", "-s", "en", "-t", "de", "--trainpref", str(text / "train"),
        "--validpref", str(text / "valid"), "--testpref", str(text / "test"),
        "--destdir", str(dest), "--bpe", "sentencepiece", "--bpe-vocab-size", "40",
        "--joined-dictionary",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (dest / "sentencepiece.model").is_file()
    return dest, text


@pytest.fixture(scope="session")
def spm_model(spm_data, tmp_path_factory):
    data, _ = spm_data
    return train(data, tmp_path_factory.mktemp("spm-model"), *COPY_MODEL, "--max-update", "10")


@pytest.fixture(scope="session")
def moses_data(tmp_path_factory) -> Path:
    return binarize(tmp_path_factory.mktemp("moses") / "data-bin", copy_splits(words=MOSES_WORDS))


@pytest.fixture(scope="session")
def moses_model(moses_data, tmp_path_factory) -> Path:
    save_dir = tmp_path_factory.mktemp("moses-model")
    return train(moses_data, save_dir, *COPY_MODEL, "--max-update", "150")
