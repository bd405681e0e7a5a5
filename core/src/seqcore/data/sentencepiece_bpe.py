"""Training a sentencepiece model on raw text and segmenting text files with it.

``sentencepiece`` is an optional dependency, imported only when asked for; the model is stored in
the data directory (``sentencepiece.model``) so that generation later undoes exactly the
segmentation the data was binarized with.
"""

from __future__ import annotations

import os
import re
from typing import Any

from seqcore.data.text_lines import LineError, decode_block, open_input, read_blocks
from seqcore.errors import ConfigError, DataError

MODEL_NAME = "sentencepiece"  # <destdir>/sentencepiece.model and .vocab


def import_sentencepiece() -> Any:
    """The ``sentencepiece`` module, or a ConfigError saying how to install it."""
    try:
        import sentencepiece
    except ImportError:
        raise ConfigError(
            "--bpe sentencepiece needs the sentencepiece package: pip install sentencepiece "
            '(or pip install "seqcore-toolkit[sentencepiece]")'
        ) from None
    return sentencepiece


def train(inputs: list[str], model_prefix: str, vocab_size: int, num_threads: int = 1) -> None:
    """Train a (unigram) model on ``inputs`` jointly; writes ``<model_prefix>.model``/``.vocab``."""
    spm = import_sentencepiece()
    try:
        spm.SentencePieceTrainer.train(
            input=list(inputs),
            model_prefix=model_prefix,
            vocab_size=vocab_size,
            num_threads=max(1, num_threads),
            input_sentence_size=1_000_000,
            shuffle_input_sentence=True,
            minloglevel=2,
        )
    except RuntimeError as e:
        too_high = re.search(r"Vocabulary size too high.*", str(e))
        if too_high:
            raise ConfigError(
                f"--bpe-vocab-size {vocab_size} is too large for the training text "
                f"(sentencepiece: {too_high.group(0)})"
            ) from None
        raise DataError(f"sentencepiece training on {', '.join(inputs)} failed: {e}") from None


def encode_file(model_path: str, in_path: str, out_path: str, batch_lines: int = 20000) -> int:
    """Write ``in_path`` segmented into pieces (space-separated), line for line; the line count."""
    spm = import_sentencepiece()
    processor = spm.SentencePieceProcessor(model_file=model_path)
    nlines = 0
    with open_input(in_path) as f, open(out_path, "w", encoding="utf-8", newline="\n") as out:
        try:
            for block in read_blocks(f, 0, os.fstat(f.fileno()).st_size):
                lines = decode_block(block, nlines).split("\n")[:-1]
                for i in range(0, len(lines), batch_lines):
                    pieces = processor.encode(lines[i : i + batch_lines], out_type=str)
                    out.write("".join(" ".join(p) + "\n" for p in pieces))
                nlines += len(lines)
        except LineError as e:
            raise DataError(f"{in_path} line {e.line}: {e.reason}") from None
    return nlines


def model_path(directory: str) -> str:
    return os.path.join(directory, MODEL_NAME + ".model")
