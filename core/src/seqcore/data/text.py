"""Between text and tokens at inference: undoing (and, for raw input, applying) the subword
segmentation a data folder was made with.

``seqcore preprocess --bpe sentencepiece`` keeps its model in the data folder
(``sentencepiece.model``); with ``--bpe auto`` (the default) its presence means the outputs are
sentencepiece pieces, detokenized for D- lines and BLEU as fairseq's sentencepiece BPE does
(pieces joined, ``▁`` turned back into spaces). ``--tokenizer moses`` then detokenizes that
text (and Moses-tokenizes raw input before its subword segmentation), as fairseq's decode and
encode functions do.
"""

from __future__ import annotations

import os
from typing import Any

from seqcore.data import sentencepiece_bpe
from seqcore.data.data_utils import split_paths
from seqcore.data.dictionary import post_process
from seqcore.data.moses_tokenizer import MosesTokenizer
from seqcore.errors import ConfigError


def first_data_folder(data: str) -> str:
    paths = split_paths(data)
    return paths[0] if paths else data


def bpe_of(bpe: str, data: str) -> str:
    """``--bpe`` with ``auto`` resolved from the data folder: ``sentencepiece`` or ``none``."""
    model = sentencepiece_bpe.model_path(first_data_folder(data))
    if bpe == "auto":
        return "sentencepiece" if os.path.isfile(model) else "none"
    if bpe == "sentencepiece" and not os.path.isfile(model):
        raise ConfigError(
            f"--bpe sentencepiece: {model} does not exist (seqcore preprocess --bpe sentencepiece "
            "writes it)"
        )
    return bpe


def tokenizer_of(opts: Any) -> MosesTokenizer | None:
    """The ``--tokenizer`` of ``opts`` (a TextOutputConfig); ``None`` for ``--tokenizer none``."""
    if opts.tokenizer == "none":
        return None
    return MosesTokenizer(
        opts.moses_source_lang,
        opts.moses_target_lang,
        no_dash_splits=opts.moses_no_dash_splits,
        no_escape=opts.moses_no_escape,
    )


class OutputText:
    """Token ids -> the strings of S-/T-/H- lines (``--remove-bpe``) and their detokenized form
    (D- lines, BLEU): subword pieces joined, then the ``tokenizer``'s detokenization."""

    def __init__(
        self, remove_bpe: str | None, bpe: str, tokenizer: MosesTokenizer | None = None
    ) -> None:
        self.remove_bpe = remove_bpe
        # Text whose pieces --remove-bpe sentencepiece already joined needs no second pass.
        self.detokenize = bpe == "sentencepiece" and remove_bpe != "sentencepiece"
        self.tokenizer = tokenizer

    @property
    def detokenizes(self) -> bool:
        """Whether anything turns the tokens back into text (the text BLEU is computed on)."""
        return self.remove_bpe is not None or self.detokenize or self.tokenizer is not None

    def string(self, dictionary: Any, tokens: Any, escape_unk: bool = False) -> str:
        return dictionary.string(tokens, self.remove_bpe, escape_unk=escape_unk)

    def decode(self, text: str) -> str:
        if self.detokenize:
            text = post_process(text, "sentencepiece")
        return self.tokenizer.decode(text) if self.tokenizer is not None else text


class InputText:
    """A raw input line -> the space-separated tokens the source dictionary knows: the
    ``tokenizer``'s tokenization, then the data folder's subword segmentation."""

    def __init__(self, bpe: str, data: str, tokenizer: MosesTokenizer | None = None) -> None:
        self.tokenizer = tokenizer
        self.processor = None
        if bpe == "sentencepiece":
            spm = sentencepiece_bpe.import_sentencepiece()
            model = sentencepiece_bpe.model_path(first_data_folder(data))
            self.processor = spm.SentencePieceProcessor(model_file=model)

    def encode(self, line: str) -> str:
        if self.tokenizer is not None:
            line = self.tokenizer.encode(line)
        if self.processor is None:
            return line
        return " ".join(self.processor.encode(line, out_type=str))
