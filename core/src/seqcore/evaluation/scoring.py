"""BLEU, computed with sacrebleu, printed as fairseq prints it.

Two flavours, as in fairseq:

- ``sacrebleu``: sacrebleu's standard corpus BLEU (13a tokenization by default) of detokenized
  text, printed as sacrebleu formats it (``BLEU = 35.21 67.0/41.2/... (BP = ...)``);
- ``bleu``: fairseq's own BLEU-4 over the tokens as they are. fairseq counts n-grams of token
  ids; here sacrebleu counts them on the whitespace-separated tokens (``tokenize="none"``) without
  smoothing, which gives the same statistics, printed in fairseq's format
  (``BLEU4 = 35.21, 67.0/41.2/... (BP=1.000, ratio=..., syslen=..., reflen=...)``). Sentence-level
  scores add one to the matched and total counts of 2- to 4-grams (fairseq's ``--sentence-bleu``).

sacrebleu warns, at every score it computes, when 100 hypotheses end in a tokenized period
(" ."): it takes the text for undetokenized. Where there is no detokenizer the text is the tokens
by design: the scorer silences that warning (sacrebleu's ``force``) and ``generate`` says once,
beside its BLEU line, that the score is on tokens (:data:`TOKEN_BLEU_NOTE`). Token BLEU never
warns. With a detokenizer the warning stays: there it points at a real problem.
"""

from __future__ import annotations

from typing import Any

from seqcore.errors import ConfigError

TOKEN_BLEU_NOTE = (
    "NOTE: BLEU is computed on the tokens as they are: there is no detokenizer "
    "(--remove-bpe, a sentencepiece model in DATA, or --tokenizer moses)"
)


def import_sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError:
        raise ConfigError("BLEU needs the sacrebleu package: pip install sacrebleu") from None
    return sacrebleu


def fairseq_bleu_string(result: Any, order: int = 4) -> str:
    """A sacrebleu ``BLEUScore`` in fairseq's ``BLEU4 = ...`` format."""
    precisions = "/".join(f"{p:2.1f}" for p in result.precisions[:order])
    ratio = result.sys_len / result.ref_len if result.ref_len else 0.0
    return (
        f"BLEU{order} = {result.score:2.2f}, {precisions} (BP={result.bp:.3f}, "
        f"ratio={ratio:.3f}, syslen={result.sys_len}, reflen={result.ref_len})"
    )


def token_bleu(order: int = 4, lowercase: bool = False, sentence: bool = False) -> Any:
    """sacrebleu's BLEU over whitespace-separated tokens, fairseq's way (see the module)."""
    metrics = import_sacrebleu().metrics
    if sentence:
        return metrics.BLEU(
            tokenize="none",
            smooth_method="add-k",
            smooth_value=1,
            max_ngram_order=order,
            lowercase=lowercase,
            force=True,
        )
    return metrics.BLEU(
        tokenize="none",
        smooth_method="none",
        max_ngram_order=order,
        lowercase=lowercase,
        force=True,
    )


class CorpusScorer:
    """Collects (reference, hypothesis) pairs and reports corpus BLEU (``--scoring``).

    ``detokenized=False``: the text is tokens that no detokenizer joined, so sacrebleu's
    warning about tokenized text is silenced (see the module)."""

    def __init__(
        self,
        scoring: str,
        tokenizer: str = "13a",
        lowercase: bool = False,
        detokenized: bool = True,
    ) -> None:
        self.scoring = scoring
        self.on_tokens = scoring == "sacrebleu" and not detokenized
        if scoring == "sacrebleu":
            self.metric = import_sacrebleu().metrics.BLEU(
                tokenize=tokenizer, lowercase=lowercase, force=not detokenized
            )
        else:
            self.metric = token_bleu(lowercase=lowercase)
        self.refs: list[str] = []
        self.hyps: list[str] = []

    def add_string(self, ref: str, hyp: str) -> None:
        self.refs.append(ref)
        self.hyps.append(hyp)

    def result(self) -> Any:
        return self.metric.corpus_score(self.hyps, [self.refs])

    def score(self) -> float:
        return float(self.result().score)

    def result_string(self) -> str:
        result = self.result()
        if self.scoring == "sacrebleu":
            return result.format()
        return fairseq_bleu_string(result)
