"""The ``translation`` task: parallel data binarized by fairseq-preprocess, one language pair.

A data folder holds ``dict.<src>.txt``, ``dict.<tgt>.txt`` and, per split, the pair
``<split>.<src>-<tgt>.<src>.bin/.idx`` and ``<split>.<src>-<tgt>.<tgt>.bin/.idx`` (a folder made
for the reverse direction, ``<split>.<tgt>-<src>.*``, is read as well). ``DATA`` may list several
folders, ``DATA1:DATA2:...``: epoch ``e`` trains on folder ``(e - 1) % n``; other splits than
``--train-subset`` always come from the first.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from seqcore.data.data_utils import (
    ConcatDataset,
    check_data_folder,
    check_token_ids,
    infer_language_pairs,
    split_paths,
)
from seqcore.data.dictionary import Dictionary, post_process
from seqcore.data.indexed_dataset import MMapIndexedDataset
from seqcore.data.language_pair_dataset import LanguagePairDataset
from seqcore.data.moses_tokenizer import import_sacremoses
from seqcore.data.text import OutputText, bpe_of
from seqcore.errors import ConfigError, DataError
from seqcore.tasks.base import Task
from seqcore.tasks.registry import register_task
from seqcore.tasks.validation_bleu import (
    ValidationTranslator,
    corpus_bleu,
    detokenizer,
    detokenizer_args,
    generation_args,
)

logger = logging.getLogger(__name__)


@dataclass
class TranslationConfig:
    data: str = field(
        default="",
        metadata={
            "positional": True,
            "help": "colon-separated data folders; training epochs cycle through them, valid "
            "and test data come from the first",
        },
    )
    source_lang: str | None = field(
        default=None, metadata={"help": "source language (inferred from the data folder)"}
    )
    target_lang: str | None = field(
        default=None, metadata={"help": "target language (inferred from the data folder)"}
    )
    left_pad_source: bool = field(default=True, metadata={"help": "pad the source on the left"})
    left_pad_target: bool = field(default=False, metadata={"help": "pad the target on the left"})
    max_source_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the source sequence"}
    )
    max_target_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the target sequence"}
    )
    # the same field as ``seqcore train``'s: one --train-subset feeds both (fairseq's task reads
    # it the same way, as ``II("dataset.train_subset")``)
    train_subset: str = field(default="train", metadata={"help": "split to train on"})
    upsample_primary: int = field(
        default=1,
        metadata={"help": "repeat the first part of a split (train, not train1...) N times"},
    )
    truncate_source: bool = field(
        default=False, metadata={"help": "truncate sources longer than the max source positions"}
    )
    eval_bleu: bool = field(
        default=False,
        metadata={"help": "translate the validation data and report its BLEU (metric: bleu)"},
    )
    eval_bleu_args: str = field(
        default="{}",
        metadata={
            "help": 'generation options for --eval-bleu as JSON, e.g. \'{"beam": 4, '
            '"max_len_a": 1.2, "max_len_b": 10}\''
        },
    )
    eval_bleu_remove_bpe: str | None = field(
        default=None,
        metadata={
            "help": "undo a subword segmentation before BLEU ('@@ ', sentencepiece, ...)",
            "flag_value": "@@ ",
        },
    )
    eval_bleu_detok: Literal["space", "moses"] = field(
        default="space",
        metadata={
            "help": "detokenize hypotheses and references before BLEU: moses (sacremoses), or "
            "space for the text as it is"
        },
    )
    eval_bleu_detok_args: str = field(
        default="{}",
        metadata={
            "help": 'options of the detokenizer as JSON, e.g. \'{"target_lang": "de"}\' '
            "(Moses's English rules unless it names target_lang)"
        },
    )
    eval_tokenized_bleu: bool = field(
        default=False, metadata={"help": "BLEU on the tokens as they are (no 13a tokenization)"}
    )
    eval_bleu_print_samples: bool = field(
        default=False, metadata={"help": "log one hypothesis and reference per batch"}
    )

    def __post_init__(self) -> None:
        if self.upsample_primary < 1:
            raise ConfigError(f"--upsample-primary {self.upsample_primary} must be >= 1")
        if self.eval_bleu:
            generation_args(self.eval_bleu_args)
            if self.eval_bleu_detok == "moses":
                import_sacremoses("--eval-bleu-detok")
                detokenizer_args(self.eval_bleu_detok_args)
            if self.eval_bleu_remove_bpe is not None:
                try:
                    post_process("", self.eval_bleu_remove_bpe)
                except ConfigError as e:
                    raise ConfigError(f"--eval-bleu-remove-bpe: {e}") from None
        for flag, value in (
            ("--max-source-positions", self.max_source_positions),
            ("--max-target-positions", self.max_target_positions),
        ):
            if value < 1:
                raise ConfigError(f"{flag} {value} must be >= 1")


class TruncatedSourceDataset(torch.utils.data.Dataset):
    """Sources cut to ``max_len`` tokens, keeping the final ``</s>`` (``--truncate-source``)."""

    def __init__(self, dataset: Any, max_len: int, eos: int) -> None:
        self.dataset = dataset
        self.max_len = max_len
        self.eos = eos
        self.sizes = np.minimum(np.asarray(dataset.sizes, dtype=np.int64), max_len)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> torch.Tensor:
        item = self.dataset[index]
        if len(item) <= self.max_len:
            return item
        return torch.cat([item[: self.max_len - 1], item.new_tensor([self.eos])])


def _pairs_text(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in pairs) if pairs else "none"


def resolve_language_pair(folder: str, src: str | None, tgt: str | None) -> tuple[str, str]:
    """``(src, tgt)``: the given languages, completed from the pairs the folder's files name."""
    if src is not None and tgt is not None:
        return src, tgt
    pairs = infer_language_pairs(folder)
    candidates: set[tuple[str, str]] = set()
    for a, b in pairs:
        for s, t in ((a, b), (b, a)):
            if (src is None or s == src) and (tgt is None or t == tgt):
                candidates.add((s, t))
    if src is None and tgt is None:
        candidates = set(pairs)  # the direction the files were made for
    if not candidates:
        given = f"--source-lang {src}" if src is not None else f"--target-lang {tgt}"
        raise DataError(
            f"{folder}: no binarized language pair matches {given}; pairs found: "
            f"{_pairs_text(pairs)}"
        )
    if len(candidates) > 1:
        raise ConfigError(
            f"{folder} holds several language pairs ({_pairs_text(sorted(candidates))}); "
            "choose one with --source-lang and --target-lang"
        )
    return next(iter(candidates))


@register_task("translation", dataclass=TranslationConfig)
class TranslationTask(Task):
    """Translate from a source language to a target language."""

    def __init__(self, cfg: Any, src_dict: Dictionary, tgt_dict: Dictionary) -> None:
        super().__init__(cfg)
        self.src_dict = src_dict
        self.tgt_dict = tgt_dict
        self._bleu_translator: ValidationTranslator | None = None

    @classmethod
    def setup_task(cls, cfg: Any, **kwargs: Any) -> TranslationTask:
        """Find the language pair (when not given) and load both dictionaries."""
        paths = split_paths(cfg.data or "")
        if not paths:
            raise ConfigError("the translation task needs a data folder (the DATA argument)")
        folder = paths[0]
        check_data_folder(folder)
        src, tgt = resolve_language_pair(folder, cfg.source_lang, cfg.target_lang)
        cfg.source_lang, cfg.target_lang = src, tgt
        dicts = []
        for flag, lang in (("--source-lang", src), ("--target-lang", tgt)):
            path = os.path.join(folder, f"dict.{lang}.txt")
            if not os.path.isfile(path):
                raise DataError(
                    f"{folder}: no dict.{lang}.txt for {flag} {lang}; language pairs found: "
                    f"{_pairs_text(infer_language_pairs(folder))}"
                )
            dicts.append(Dictionary.load(path))
        src_dict, tgt_dict = dicts
        for name in ("pad", "eos", "unk"):
            if getattr(src_dict, name)() != getattr(tgt_dict, name)():
                raise DataError(
                    f"{folder}: dict.{src}.txt and dict.{tgt}.txt disagree on the {name} index"
                )
        logger.info("[%s] dictionary: %d types", src, len(src_dict))
        logger.info("[%s] dictionary: %d types", tgt, len(tgt_dict))
        return cls(cfg, src_dict, tgt_dict, **kwargs)

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False) -> None:
        """Load ``split`` (with ``combine``: also ``<split>1``, ``<split>2``, ... after it)."""
        paths = split_paths(self.cfg.data or "")
        if split != self.cfg.train_subset:
            paths = paths[:1]
        folder = paths[(epoch - 1) % len(paths)]
        src, tgt = self.cfg.source_lang, self.cfg.target_lang

        src_parts, tgt_parts = [], []
        for k in itertools.count():
            split_k = split + (str(k) if k > 0 else "")
            prefix = self._split_prefix(folder, split_k, src, tgt)
            if prefix is None:
                if k > 0:
                    break
                raise DataError(self._missing_split_message(folder, split, src, tgt))
            src_ds = self._open(prefix + src, self.src_dict)
            tgt_ds = None
            if MMapIndexedDataset.exists(prefix + tgt):
                tgt_ds = self._open(prefix + tgt, self.tgt_dict)
                if len(tgt_ds) != len(src_ds):
                    raise DataError(
                        f"{prefix}{src} has {len(src_ds)} sentences but {prefix}{tgt} has "
                        f"{len(tgt_ds)}; the two sides must be line-aligned"
                    )
                tgt_parts.append(tgt_ds)
            if self.cfg.truncate_source:
                src_ds = TruncatedSourceDataset(
                    src_ds, self.cfg.max_source_positions, self.src_dict.eos()
                )
            src_parts.append(src_ds)
            logger.info("%s %s %s-%s %d examples", folder, split_k, src, tgt, len(src_ds))
            if not combine:
                break
        if tgt_parts and len(tgt_parts) != len(src_parts):
            raise DataError(f"{folder}: some parts of split {split!r} lack the {tgt} side")

        if len(src_parts) == 1:
            src_ds = src_parts[0]
            tgt_ds = tgt_parts[0] if tgt_parts else None
        else:
            ratios = [self.cfg.upsample_primary] + [1] * (len(src_parts) - 1)
            src_ds = ConcatDataset(src_parts, ratios)
            tgt_ds = ConcatDataset(tgt_parts, ratios) if tgt_parts else None
        self.datasets[split] = LanguagePairDataset(
            src_ds,
            src_ds.sizes,
            self.src_dict,
            tgt_ds,
            tgt_ds.sizes if tgt_ds is not None else None,
            self.tgt_dict,
            left_pad_source=self.cfg.left_pad_source,
            left_pad_target=self.cfg.left_pad_target,
            shuffle=(split != "test"),
        )

    @staticmethod
    def _split_prefix(folder: str, split: str, src: str, tgt: str) -> str | None:
        for a, b in ((src, tgt), (tgt, src)):
            prefix = os.path.join(folder, f"{split}.{a}-{b}.")
            if MMapIndexedDataset.exists(prefix + src):
                return prefix
        return None

    @staticmethod
    def _open(prefix: str, dictionary: Dictionary) -> MMapIndexedDataset:
        ds = MMapIndexedDataset(prefix)
        check_token_ids(ds, len(dictionary), prefix + ".bin")
        return ds

    @staticmethod
    def _missing_split_message(folder: str, split: str, src: str, tgt: str) -> str:
        pairs = infer_language_pairs(folder)
        if {(src, tgt), (tgt, src)} & set(pairs):
            return (
                f"{folder}: no {split} data for {src}-{tgt} (expected "
                f"{split}.{src}-{tgt}.{src}.bin/.idx)"
            )
        return (
            f"{folder}: no {split} data for the language pair {src}-{tgt}; the folder was "
            f"built for: {_pairs_text(pairs)}"
        )

    def max_positions(self) -> tuple[int, int]:
        return (self.cfg.max_source_positions, self.cfg.max_target_positions)

    @property
    def source_dictionary(self) -> Dictionary:
        return self.src_dict

    @property
    def target_dictionary(self) -> Dictionary:
        return self.tgt_dict

    # -- BLEU during validation (--eval-bleu) ----------------------------------------------------
    def valid_step(
        self, sample: dict[str, Any], model: torch.nn.Module, criterion: Any
    ) -> tuple[torch.Tensor, int | float, dict[str, Any]]:
        loss, sample_size, logging_output = super().valid_step(sample, model, criterion)
        if getattr(self.cfg, "eval_bleu", False):
            if self._bleu_translator is None:
                self._bleu_translator = ValidationTranslator(
                    self.tgt_dict,
                    generation_args(self.cfg.eval_bleu_args),
                    OutputText(
                        self.cfg.eval_bleu_remove_bpe,
                        bpe_of("auto", self.cfg.data),
                        detokenizer(self.cfg.eval_bleu_detok, self.cfg.eval_bleu_detok_args),
                    ),
                )
            logging_output.update(
                self._bleu_translator.statistics(
                    sample, model, self.cfg.eval_tokenized_bleu, self.cfg.eval_bleu_print_samples
                )
            )
        return loss, sample_size, logging_output

    def reduce_metrics(self, logging_outputs: list[dict[str, Any]], criterion: Any) -> dict:
        metrics = dict(super().reduce_metrics(logging_outputs, criterion))
        if getattr(self.cfg, "eval_bleu", False):
            bleu = corpus_bleu(logging_outputs)
            if bleu is not None:
                metrics["bleu"] = bleu
        return metrics
