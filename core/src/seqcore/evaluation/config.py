"""The options of the inference and evaluation commands, under fairseq's flag names.

``seqcore generate``, ``interactive`` and ``eval-lm`` load models from checkpoints and share
:class:`InferenceConfig`; ``score`` and ``average-checkpoints`` have their own small configs.
The command-line flags are derived from these fields, as for every component.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from seqcore.data.dictionary import post_process
from seqcore.data.moses_tokenizer import import_sacremoses
from seqcore.errors import ConfigError


def parse_model_overrides(text: str) -> dict[str, Any]:
    """``--model-overrides``: a JSON object (fairseq's Python dict literal is accepted too)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise ConfigError(
                f"--model-overrides {text!r} is not a JSON object ({e.msg}); "
                "write it like '{\"dropout\": 0.0}'"
            ) from None
    if not isinstance(value, dict):
        raise ConfigError(
            f"--model-overrides {text!r} must be a JSON object, not {type(value).__name__}"
        )
    return value


def split_checkpoint_paths(path: str) -> list[str]:
    """``--path a.pt:b.pt`` -> the checkpoints of the ensemble."""
    return [p for p in path.split(os.pathsep) if p]


@dataclass
class InferenceConfig:
    """What every command that runs a trained model needs: the data folder, the checkpoints,
    the device and the batches."""

    data: str = field(
        metadata={
            "positional": True,
            "help": "the data-bin folder (its dictionaries must be those the model was trained "
            "with)",
        },
    )
    path: str = field(
        metadata={"help": "checkpoint to load; colon-separated checkpoints form an ensemble"}
    )
    model_overrides: str = field(
        default="{}",
        metadata={
            "help": "JSON object of options to change in the checkpoint's configuration, e.g. "
            "'{\"max_target_positions\": 2048}'"
        },
    )
    device: Literal["auto", "cpu", "cuda"] = field(
        default="auto", metadata={"help": "where to run: cuda when present with auto"}
    )
    fp16: bool = field(default=False, metadata={"help": "run the model in float16 (CUDA only)"})
    bf16: bool = field(default=False, metadata={"help": "run the model in bfloat16 (CPU or CUDA)"})
    seed: int = field(default=1, metadata={"help": "random seed (sampling, data order)"})
    max_tokens: int | None = field(
        default=None, metadata={"help": "maximum tokens in a batch (padding included)"}
    )
    batch_size: int | None = field(default=None, metadata={"help": "maximum sentences in a batch"})

    def __post_init__(self) -> None:
        if not split_checkpoint_paths(self.path):
            raise ConfigError(f"--path {self.path!r} names no checkpoint")
        if self.fp16 and self.bf16:
            raise ConfigError("--fp16 and --bf16 exclude each other; choose one")
        for flag, value in [("--max-tokens", self.max_tokens), ("--batch-size", self.batch_size)]:
            if value is not None and value < 1:
                raise ConfigError(f"{flag} {value} must be at least 1")
        parse_model_overrides(self.model_overrides)

    @property
    def checkpoint_paths(self) -> list[str]:
        return split_checkpoint_paths(self.path)

    @property
    def overrides(self) -> dict[str, Any]:
        return parse_model_overrides(self.model_overrides)


@dataclass
class TextOutputConfig(InferenceConfig):
    """Inference whose output is text: how token sequences are turned back into it."""

    remove_bpe: str | None = field(
        default=None,
        metadata={
            "help": "undo a subword segmentation in S-/T-/H- lines (fairseq's --post-process): "
            "sentencepiece, subword_nmt ('@@ '), wordpiece, letter, ... ; default: none",
            "flag_value": "subword_nmt",
        },
    )
    bpe: Literal["auto", "sentencepiece", "none"] = field(
        default="auto",
        metadata={
            "help": "detokenizer of D- lines and of the text BLEU is computed on; auto: "
            "sentencepiece when DATA holds sentencepiece.model (seqcore preprocess --bpe "
            "sentencepiece), else none"
        },
    )

    tokenizer: Literal["none", "moses"] = field(
        default="none",
        metadata={
            "help": "word tokenizer of the text: moses (sacremoses) tokenizes raw input "
            "(interactive) and detokenizes D- lines and the text BLEU is computed on"
        },
    )
    moses_source_lang: str = field(
        default="en", metadata={"help": "language whose Moses rules tokenize the input"}
    )
    moses_target_lang: str = field(
        default="en", metadata={"help": "language whose Moses rules detokenize the output"}
    )
    moses_no_dash_splits: bool = field(
        default=False, metadata={"help": "do not split words at dashes (Moses: a @-@ b)"}
    )
    moses_no_escape: bool = field(
        default=False,
        metadata={"help": "do not escape XML characters such as ' and & (Moses: &apos;)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tokenizer == "moses":
            import_sacremoses("--tokenizer")
        if self.remove_bpe is not None:
            try:
                post_process("", self.remove_bpe)
            except ConfigError as e:
                raise ConfigError(f"--remove-bpe: {e}") from None


@dataclass
class GenerateConfig(TextOutputConfig):
    """fairseq-generate's own options (the search options are in GenerationConfig)."""

    gen_subset: str = field(default="test", metadata={"help": "data split to translate"})
    results_path: str | None = field(
        default=None,
        metadata={"help": "write the output to <results-path>/generate-<gen-subset>.txt"},
    )
    scoring: Literal["sacrebleu", "bleu"] = field(
        default="sacrebleu",
        metadata={
            "help": "sacrebleu: sacrebleu's corpus BLEU on the detokenized text; bleu: "
            "fairseq's BLEU4 on the tokens as they are (sacrebleu, tokenize none, no smoothing)"
        },
    )
    sacrebleu_tokenizer: Literal["13a", "intl", "zh", "char", "none"] = field(
        default="13a", metadata={"help": "sacrebleu's tokenizer for --scoring sacrebleu"}
    )
    sacrebleu_lowercase: bool = field(
        default=False, metadata={"help": "lowercase before computing sacrebleu"}
    )
    quiet: bool = field(default=False, metadata={"help": "print only the final scores"})
    skip_invalid_size_inputs_valid_test: bool = field(
        default=False, metadata={"help": "skip examples too long for the model instead of failing"}
    )
    required_batch_size_multiple: int = field(
        default=8, metadata={"help": "batch sizes are rounded down to a multiple of this"}
    )
    score_reference: bool = field(
        default=False,
        metadata={"help": "score the reference translations instead of searching (H- lines)"},
    )
    num_shards: int = field(
        default=1, metadata={"help": "split the batches into this many shards (separate jobs)"}
    )
    shard_id: int = field(
        default=0, metadata={"help": "the shard to translate, from 0 to --num-shards - 1"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_shards < 1:
            raise ConfigError(f"--num-shards {self.num_shards} must be at least 1")
        if not 0 <= self.shard_id < self.num_shards:
            raise ConfigError(
                f"--shard-id {self.shard_id} must be between 0 and --num-shards - 1 "
                f"({self.num_shards - 1})"
            )


@dataclass
class InteractiveConfig(TextOutputConfig):
    """fairseq-interactive's own options."""

    input: str = field(default="-", metadata={"help": "file to read sentences from; - for stdin"})
    buffer_size: int = field(
        default=1,
        metadata={"help": "read this many sentences before translating them (1: each at once)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.buffer_size < 1:
            raise ConfigError(f"--buffer-size {self.buffer_size} must be at least 1")
        if self.batch_size is not None and self.batch_size > self.buffer_size:
            raise ConfigError(
                f"--batch-size {self.batch_size} cannot be larger than --buffer-size "
                f"{self.buffer_size}"
            )


@dataclass
class EvalLMConfig(InferenceConfig):
    """fairseq-eval-lm's options."""

    gen_subset: str = field(default="test", metadata={"help": "data split to evaluate"})
    context_window: int = field(
        default=0,
        metadata={
            "help": "give each block up to this many preceding tokens as context (not scored); "
            "blocks shrink to --tokens-per-sample minus this"
        },
    )
    tokens_per_sample: int = field(
        default=0,
        metadata={"help": "tokens per block (0: the value the model was trained with)"},
    )
    output_word_probs: bool = field(
        default=False,
        metadata={"help": "print each block's words with their log-probabilities (base e)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.context_window < 0:
            raise ConfigError(f"--context-window {self.context_window} must not be negative")
        if self.tokens_per_sample < 0:
            raise ConfigError(f"--tokens-per-sample {self.tokens_per_sample} must not be negative")


@dataclass
class ScoreConfig:
    """fairseq-score's options."""

    sys: str = field(
        default="-", metadata={"help": "system output, one sentence a line; - for stdin"}
    )
    ref: str = field(kw_only=True, metadata={"help": "references, one sentence a line"})
    order: int = field(default=4, metadata={"help": "consider n-grams up to this order"})
    ignore_case: bool = field(default=False, metadata={"help": "case-insensitive scoring"})
    sacrebleu: bool = field(
        default=False,
        metadata={"help": "sacrebleu's standard BLEU (13a tokenization of detokenized text)"},
    )
    sentence_bleu: bool = field(
        default=False,
        metadata={
            "help": "one BLEU per sentence: add-one smoothing of the 2- to 4-grams (with "
            "--sacrebleu: sacrebleu's sentence BLEU)"
        },
    )

    def __post_init__(self) -> None:
        if not 1 <= self.order <= 4:
            raise ConfigError(f"--order {self.order} must be between 1 and 4")
        if self.sacrebleu and self.order != 4:
            raise ConfigError(f"--order {self.order}: --sacrebleu computes BLEU-4 only")


@dataclass
class AverageCheckpointsConfig:
    """fairseq's scripts/average_checkpoints.py options."""

    inputs: list[str] = field(
        metadata={
            "help": "checkpoints to average (space- or comma-separated), or the folder holding "
            "them with --num-epoch-checkpoints / --num-update-checkpoints"
        },
    )
    output: str = field(metadata={"help": "the averaged checkpoint to write"})
    num_epoch_checkpoints: int | None = field(
        default=None,
        metadata={"help": "average the last N checkpointN.pt files of the --inputs folder"},
    )
    num_update_checkpoints: int | None = field(
        default=None,
        metadata={"help": "average the last N checkpoint_E_U.pt files of the --inputs folder"},
    )
    checkpoint_upper_bound: int | None = field(
        default=None,
        metadata={
            "help": "ignore checkpoints past this epoch (or update, with --num-update-checkpoints)"
        },
    )

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ConfigError("--inputs names no checkpoint")
        epoch, update = self.num_epoch_checkpoints, self.num_update_checkpoints
        if epoch is not None and update is not None:
            raise ConfigError(
                "--num-epoch-checkpoints and --num-update-checkpoints exclude each other"
            )
        for flag, value in [
            ("--num-epoch-checkpoints", epoch),
            ("--num-update-checkpoints", update),
        ]:
            if value is not None and value < 1:
                raise ConfigError(f"{flag} {value} must be at least 1")
        if self.checkpoint_upper_bound is not None and epoch is None and update is None:
            raise ConfigError(
                "--checkpoint-upper-bound needs --num-epoch-checkpoints or --num-update-checkpoints"
            )
        if (epoch is not None or update is not None) and len(self.inputs) != 1:
            flag = "--num-epoch-checkpoints" if epoch is not None else "--num-update-checkpoints"
            raise ConfigError(
                f"{flag} needs exactly one folder as --inputs, got {len(self.inputs)}"
            )
