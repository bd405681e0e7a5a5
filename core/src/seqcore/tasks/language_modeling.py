"""The ``language_modeling`` task: predict each token from the ones before it.

Reads what ``fairseq-preprocess --only-source`` writes: ``dict.txt`` and ``<split>.bin/.idx``
(``DATA1:DATA2:...``: epoch ``e`` reads folder ``(e - 1) % n``). Sentences are cut into blocks
of ``--tokens-per-sample`` tokens according to ``--sample-break-mode`` (see
:mod:`seqcore.data.token_block_dataset`); a batch is ``net_input = {src_tokens, src_lengths}``
and ``target``, the same tokens one step ahead.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from seqcore.data.data_utils import ConcatDataset, check_data_folder, check_token_ids, split_paths
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDataset
from seqcore.data.token_block_dataset import MonolingualDataset, TokenBlockDataset
from seqcore.errors import ConfigError, DataError
from seqcore.tasks.base import Task
from seqcore.tasks.registry import register_task

logger = logging.getLogger(__name__)


@dataclass
class LanguageModelingConfig:
    data: str = field(
        default="",
        metadata={
            "positional": True,
            "help": "colon-separated data folders (dict.txt, <split>.bin/.idx)",
        },
    )
    sample_break_mode: Literal["none", "complete", "complete_doc", "eos"] = field(
        default="none",
        metadata={
            "help": '"none": fill each sample with --tokens-per-sample tokens; "complete": '
            'split only at sentence ends, several sentences per sample; "complete_doc": the '
            'same without crossing documents (empty lines); "eos": one sentence per sample'
        },
    )
    tokens_per_sample: int = field(
        default=1024, metadata={"help": "max number of tokens per sample"}
    )
    output_dictionary_size: int = field(
        default=-1, metadata={"help": "limit the output dictionary to its first N symbols"}
    )
    add_bos_token: bool = field(
        default=False, metadata={"help": "prepend the beginning-of-sentence token <s>"}
    )
    max_target_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the target sequence"}
    )

    def __post_init__(self) -> None:
        if self.tokens_per_sample < 1:
            raise ConfigError(f"--tokens-per-sample {self.tokens_per_sample} must be >= 1")
        if self.sample_break_mode != "eos" and self.tokens_per_sample > self.max_target_positions:
            raise ConfigError(
                f"--tokens-per-sample {self.tokens_per_sample} exceeds --max-target-positions "
                f"{self.max_target_positions}; raise --max-target-positions or lower "
                "--tokens-per-sample"
            )


class TruncatedDictionary:
    """The first ``length`` symbols of a dictionary; later ids read as ``<unk>``.

    Used as the output vocabulary with ``--output-dictionary-size``.
    """

    def __init__(self, wrapped: Dictionary, length: int) -> None:
        self.wrapped = wrapped
        self.length = min(len(wrapped), length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> str:
        return self.wrapped[i] if i < self.length else self.wrapped.unk_word

    def index(self, sym: str) -> int:
        i = self.wrapped.index(sym)
        return i if i < self.length else self.wrapped.unk()

    def __getattr__(self, name: str) -> Any:
        if name == "wrapped":  # not set yet (while unpickling)
            raise AttributeError(name)
        return getattr(self.wrapped, name)


@register_task("language_modeling", dataclass=LanguageModelingConfig)
class LanguageModelingTask(Task):
    """Train a left-to-right language model."""

    def __init__(self, cfg: Any, dictionary: Dictionary, output_dictionary: Any = None) -> None:
        super().__init__(cfg)
        self.dictionary = dictionary
        self.output_dictionary = output_dictionary if output_dictionary is not None else dictionary

    @classmethod
    def setup_task(cls, cfg: Any, **kwargs: Any) -> LanguageModelingTask:
        """Load ``dict.txt`` (and cut the output dictionary to ``--output-dictionary-size``)."""
        paths = split_paths(cfg.data or "")
        if not paths:
            raise ConfigError("the language_modeling task needs a data folder (the DATA argument)")
        folder = paths[0]
        check_data_folder(folder)
        path = os.path.join(folder, "dict.txt")
        if not os.path.isfile(path):
            others = sorted(n for n in os.listdir(folder) if n.startswith("dict."))
            hint = f" (found {', '.join(others)}: data made for translation?)" if others else ""
            raise DataError(
                f"{folder}: no dict.txt; language modeling reads the output of "
                f"fairseq-preprocess --only-source{hint}"
            )
        dictionary = Dictionary.load(path)
        logger.info("dictionary: %d types", len(dictionary))
        output_dictionary: Any = dictionary
        if cfg.output_dictionary_size >= 0:
            output_dictionary = TruncatedDictionary(dictionary, cfg.output_dictionary_size)
        return cls(cfg, dictionary, output_dictionary, **kwargs)

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False) -> None:
        """Load ``split`` as blocks (with ``combine``: also ``<split>1``, ``<split>2``, ...)."""
        paths = split_paths(self.cfg.data or "")
        folder = paths[(epoch - 1) % len(paths)]
        parts = []
        for k in itertools.count():
            split_k = split + (str(k) if k > 0 else "")
            prefix = os.path.join(folder, split_k)
            if not MMapIndexedDataset.exists(prefix):
                if k > 0:
                    break
                found = sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".idx"))
                raise DataError(
                    f"{folder}: no {split}.bin/.idx (datasets found: {', '.join(found) or 'none'})"
                )
            ds = MMapIndexedDataset(prefix)
            check_token_ids(ds, len(self.dictionary), prefix + ".bin")
            parts.append(ds)
            if not combine:
                break
        dataset = parts[0] if len(parts) == 1 else ConcatDataset(parts)
        blocks = TokenBlockDataset(
            dataset,
            dataset.sizes,
            self.cfg.tokens_per_sample,
            pad=self.dictionary.pad(),
            eos=self.dictionary.eos(),
            break_mode=self.cfg.sample_break_mode,
            include_targets=True,
        )
        logger.info("%s %s %d blocks", folder, split, len(blocks))
        self.datasets[split] = MonolingualDataset(
            blocks,
            blocks.sizes,
            self.dictionary,
            self.output_dictionary,
            shuffle=True,
            add_bos_token=self.cfg.add_bos_token,
        )

    def max_positions(self) -> int:
        return self.cfg.max_target_positions

    @property
    def source_dictionary(self) -> Dictionary:
        return self.dictionary

    @property
    def target_dictionary(self) -> Any:
        return self.output_dictionary
