"""BLEU during validation (``--eval-bleu``), as fairseq's translation task computes it: each
validation batch is translated with the generation options of ``--eval-bleu-args`` and its
sacrebleu n-gram statistics go into the logging output, summed over batches (and ranks) so that
the validation's ``bleu`` is the corpus BLEU of the whole split, not an average of batches.

``--best-checkpoint-metric bleu --maximize-best-checkpoint-metric`` then keeps the checkpoint
that translates best.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import torch

from seqcore.data.moses_tokenizer import MosesTokenizer
from seqcore.errors import ConfigError
from seqcore.generation import SequenceGenerator

ORDER = 4  # BLEU-4, as fairseq
logger = logging.getLogger("seqcore.valid")

# fairseq's --eval-bleu-args keys that seqcore's SequenceGenerator takes, by its argument name
_GENERATION_ARGS = {
    "beam": "beam_size",
    "max_len_a": "max_len_a",
    "max_len_b": "max_len_b",
    "min_len": "min_len",
    "lenpen": "len_penalty",
    "unkpen": "unk_penalty",
    "unnormalized": "normalize_scores",
    "temperature": "temperature",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
    "sampling": "sampling",
    "sampling_topk": "sampling_topk",
    "sampling_topp": "sampling_topp",
}


def json_object(flag: str, text: str) -> dict[str, Any]:
    """``text`` read as a JSON object, or a ConfigError naming ``flag``."""
    try:
        given = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{flag} {text!r} is not a JSON object ({e.msg})") from None
    if not isinstance(given, dict):
        raise ConfigError(f"{flag} {text!r} is not a JSON object")
    return given


def generation_args(text: str) -> dict[str, Any]:
    """The SequenceGenerator arguments of ``--eval-bleu-args`` (a JSON object, fairseq's
    generation option names); an unknown key or a value that is not JSON is a ConfigError."""
    given = json_object("--eval-bleu-args", text)
    unknown = sorted(set(given) - set(_GENERATION_ARGS))
    if unknown:
        raise ConfigError(
            f"--eval-bleu-args: unknown option {unknown[0]!r}; known: "
            f"{', '.join(sorted(_GENERATION_ARGS))}"
        )
    args = {_GENERATION_ARGS[k]: v for k, v in given.items()}
    if "normalize_scores" in args:  # fairseq's flag says the opposite
        args["normalize_scores"] = not args["normalize_scores"]
    return args


# fairseq's --eval-bleu-detok-args keys for the moses detokenizer (its tokenizer config's fields)
_DETOK_ARGS = {
    "source_lang": str,
    "target_lang": str,
    "moses_no_dash_splits": bool,
    "moses_no_escape": bool,
}


def detokenizer_args(text: str) -> dict[str, Any]:
    """The options of ``--eval-bleu-detok-args`` (a JSON object of fairseq's Moses tokenizer
    option names); an unknown key, a value of the wrong type or text that is not a JSON object
    is a ConfigError."""
    given = json_object("--eval-bleu-detok-args", text)
    for key, value in given.items():
        if key not in _DETOK_ARGS:
            raise ConfigError(
                f"--eval-bleu-detok-args: unknown option {key!r}; known: "
                f"{', '.join(sorted(_DETOK_ARGS))}"
            )
        if not isinstance(value, _DETOK_ARGS[key]):
            raise ConfigError(
                f"--eval-bleu-detok-args: {key!r} must be a {_DETOK_ARGS[key].__name__}, "
                f"not {value!r}"
            )
    return given


def detokenizer(detok: str, args_text: str) -> MosesTokenizer | None:
    """The detokenizer of ``--eval-bleu-detok``: ``None`` for ``space`` (the text as it is), a
    Moses detokenizer for ``moses``, with English rules unless ``--eval-bleu-detok-args`` names
    the languages (as fairseq)."""
    if detok == "space":
        return None
    args = detokenizer_args(args_text)
    return MosesTokenizer(
        args.get("source_lang", "en"),
        args.get("target_lang", "en"),
        no_dash_splits=args.get("moses_no_dash_splits", False),
        no_escape=args.get("moses_no_escape", False),
        flag="--eval-bleu-detok",
    )


def bleu_statistics(hypotheses: Sequence[str], references: Sequence[str], tokenized: bool) -> dict:
    """The logging-output entries of one batch: sacrebleu's corpus statistics of its sentences
    (13a tokenization, or none with ``tokenized``), under fairseq's key names."""
    import sacrebleu

    result = sacrebleu.corpus_bleu(
        list(hypotheses), [list(references)], tokenize="none" if tokenized else "13a"
    )
    stats = {"_bleu_sys_len": result.sys_len, "_bleu_ref_len": result.ref_len}
    for i in range(ORDER):
        stats[f"_bleu_counts_{i}"] = result.counts[i]
        stats[f"_bleu_totals_{i}"] = result.totals[i]
    return stats


def corpus_bleu(logging_outputs: Sequence[dict[str, Any]]) -> float | None:
    """BLEU of the summed statistics of ``logging_outputs`` (None when they hold none; 0 when
    the hypotheses are all empty), with sacrebleu's exponential smoothing as fairseq reports
    it, rounded to 2 decimals."""
    from sacrebleu.metrics import BLEU

    if not any("_bleu_sys_len" in log for log in logging_outputs):
        return None

    def total(key: str) -> int:  # summed over ranks they arrive as floats
        return round(sum(float(log.get(key, 0)) for log in logging_outputs))

    totals = [total(f"_bleu_totals_{i}") for i in range(ORDER)]
    if max(totals) <= 0:
        return 0.0
    score = BLEU.compute_bleu(
        correct=[total(f"_bleu_counts_{i}") for i in range(ORDER)],
        total=totals,
        sys_len=total("_bleu_sys_len"),
        ref_len=total("_bleu_ref_len"),
        smooth_method="exp",
    ).score
    return round(score, 2)


class ValidationTranslator:
    """Translates validation batches for BLEU: a SequenceGenerator built once for the model,
    and the text of hypotheses and references as ``seqcore generate`` scores them."""

    def __init__(self, tgt_dict: Any, args: dict[str, Any], output_text: Any) -> None:
        self.tgt_dict = tgt_dict
        self.args = args
        self.output_text = output_text
        self._generator: Any = None
        self._model: torch.nn.Module | None = None

    def _text(self, tokens: torch.Tensor, unk: str) -> str:
        text = self.tgt_dict.string(tokens, self.output_text.remove_bpe, unk_string=unk)
        return self.output_text.decode(text)

    def statistics(
        self, sample: dict[str, Any], model: torch.nn.Module, tokenized: bool, print_samples: bool
    ) -> dict[str, Any]:
        if self._generator is None or self._model is not model:
            self._generator = SequenceGenerator([model], self.tgt_dict, **self.args)
            self._model = model
        with torch.no_grad():
            hypotheses = self._generator.generate(sample)
        pad = self.tgt_dict.pad()
        hyps, refs = [], []
        for best, target in zip(hypotheses, sample["target"]):
            # unknown words never match: sacrebleu would split <unk> and count its pieces
            hyps.append(self._text(best[0]["tokens"], unk="UNKNOWNTOKENINHYP"))
            refs.append(self._text(target[target.ne(pad)], unk="UNKNOWNTOKENINREF"))
        if print_samples and hyps:
            logger.info("example hypothesis: %s", hyps[0])
            logger.info("example reference: %s", refs[0])
        return bleu_statistics(hyps, refs, tokenized)
