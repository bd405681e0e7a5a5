"""``seqcore score``: BLEU of a system output against references, as fairseq-score.

Without ``--sacrebleu`` both files are taken as tokenized text and scored on their
whitespace-separated tokens (fairseq's BLEU, computed with sacrebleu: see
:mod:`seqcore.evaluation.scoring`); ``--sacrebleu`` gives sacrebleu's standard BLEU of
detokenized text. ``--sentence-bleu`` prints ``<line index> <BLEU>`` for every line.
"""

from __future__ import annotations

import sys
from typing import Any

from seqcore.errors import DataError
from seqcore.evaluation.config import ScoreConfig
from seqcore.evaluation.scoring import fairseq_bleu_string, import_sacrebleu, token_bleu


def read_lines(path: str, flag: str) -> list[str]:
    """The lines of ``path`` (``-``: stdin), without their line ends."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        raise DataError(f"{flag} {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise DataError(f"{flag} {path}: not valid UTF-8") from None
    return text.splitlines()


def score(opts: ScoreConfig, stdout: Any = None) -> list[str]:
    """Print (and return) the score lines of ``seqcore score``."""
    out = stdout or sys.stdout
    hyps = read_lines(opts.sys, "--sys")
    refs = read_lines(opts.ref, "--ref")
    if len(hyps) != len(refs):
        raise DataError(
            f"--sys {opts.sys} has {len(hyps)} lines but --ref {opts.ref} has {len(refs)}; "
            "they must be line-aligned"
        )
    if opts.sacrebleu:
        metrics = import_sacrebleu().metrics
        if opts.sentence_bleu:
            metric = metrics.BLEU(lowercase=opts.ignore_case, effective_order=True)
            lines = [
                f"{i} {metric.sentence_score(h, [r]).format()}"
                for i, (h, r) in enumerate(zip(hyps, refs))
            ]
        else:
            metric = metrics.BLEU(lowercase=opts.ignore_case)
            lines = [metric.corpus_score(hyps, [refs]).format()]
    elif opts.sentence_bleu:
        metric = token_bleu(opts.order, opts.ignore_case, sentence=True)
        lines = [
            f"{i} {fairseq_bleu_string(metric.sentence_score(h, [r]), opts.order)}"
            for i, (h, r) in enumerate(zip(hyps, refs))
        ]
    else:
        metric = token_bleu(opts.order, opts.ignore_case)
        lines = [fairseq_bleu_string(metric.corpus_score(hyps, [refs]), opts.order)]
    out.write("".join(line + "\n" for line in lines))
    return lines
