"""Tiny data folders in fairseq's data-bin layout, written with seqcore's own data library."""

from __future__ import annotations

import random
from pathlib import Path

from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDatasetBuilder, best_dtype

WORDS = [f"w{i}" for i in range(12)]


def _sentences(n: int, rng: random.Random) -> list[list[str]]:
    return [[rng.choice(WORDS) for _ in range(rng.randint(2, 6))] for _ in range(n)]


def _binarize(lines: dict[str, list[str]], dictionary: Dictionary, prefix: Path) -> None:
    for split, text in lines.items():
        path = prefix.parent / prefix.name.format(split=split)
        builder = MMapIndexedDatasetBuilder(f"{path}.bin", dtype=best_dtype(len(dictionary)))
        for line in text:
            builder.add_item(dictionary.encode_line(line, add_if_not_exist=False))
        builder.finalize(f"{path}.idx")


def dictionary(lines: list[str]) -> Dictionary:
    """The dictionary of every word in ``lines``, finalized as preprocess would."""
    d = Dictionary()
    for line in lines:
        for word in line.split():
            d.add_symbol(word)
    d.finalize()
    return d


def write_translation_data(dest: Path, n_train: int = 64, n_valid: int = 16, seed: int = 0) -> Path:
    """A reversal task (target = source reversed) as ``dest``: ``dict.src.txt``,
    ``dict.tgt.txt`` and ``{train,valid,test}.src-tgt.{src,tgt}.{bin,idx}``."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    splits = {s: _sentences(n, rng) for s, n in [("train", n_train), ("valid", n_valid)]}
    splits["test"] = splits["valid"]
    for lang, order in [("src", 1), ("tgt", -1)]:
        text = {s: [" ".join(sent[::order]) for sent in sents] for s, sents in splits.items()}
        d = dictionary(text["train"])
        d.save(str(dest / f"dict.{lang}.txt"))
        _binarize(text, d, dest / f"{{split}}.src-tgt.{lang}")
    return dest


def write_lm_data(dest: Path, n_train: int = 64, n_valid: int = 16, seed: int = 0) -> Path:
    """A language-modelling folder as ``dest``: ``dict.txt``, ``{train,valid,test}.{bin,idx}``."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    splits = {
        s: [" ".join(x) for x in _sentences(n, rng)]
        for s, n in [("train", n_train), ("valid", n_valid)]
    }
    splits["test"] = splits["valid"]
    d = dictionary(splits["train"])
    d.save(str(dest / "dict.txt"))
    _binarize(splits, d, dest / "{split}")
    return dest
