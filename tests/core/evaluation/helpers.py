"""Shared helpers of the evaluation tests: data folders, training, reading outputs back,
and an independent BLEU."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from pathlib import Path

from support import run_cli

WORDS = [f"w{i}" for i in range(12)]

COPY_MODEL = [
    "-a", "transformer", "--encoder-layers", "1", "--decoder-layers", "1",
    "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
    "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64",
    "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
    "--dropout", "0.0", "--optimizer", "adam", "--lr", "0.01", "--max-tokens", "1024",
    "--num-workers", "0", "--log-format", "none", "--no-epoch-checkpoints",
    "--disable-validation",
]  # fmt: skip

TINY_LM = [
    "--task", "language_modeling", "-a", "transformer_lm", "--decoder-layers", "1",
    "--decoder-embed-dim", "16", "--decoder-ffn-embed-dim", "32",
    "--decoder-attention-heads", "2", "--tokens-per-sample", "16",
    "--optimizer", "adam", "--lr", "0.01", "--max-tokens", "256", "--num-workers", "0",
    "--log-format", "none",
]  # fmt: skip


# Moses-tokenized words: Moses's detokenizer joins, unescapes and undoes dash splits in them
MOSES_WORDS = [
    "it", "&apos;s", "well", "@-@", "known", ",", ".", "&amp;", "(", ")", "don", "&apos;t",
]  # fmt: skip


def random_sentences(
    n: int, rng: random.Random, low: int = 2, high: int = 6, words: list[str] = WORDS
) -> list[str]:
    return [" ".join(rng.choice(words) for _ in range(rng.randint(low, high))) for _ in range(n)]


def binarize(
    dest: Path,
    splits: dict[str, dict[str | None, list[str]]],
) -> Path:
    """A data-bin folder written with seqcore's data library: per language (``None``: a
    monolingual folder) a dictionary from the train split, and every split binarized."""
    from seqcore.data.dictionary import Dictionary
    from seqcore.data.indexed_dataset import MMapIndexedDatasetBuilder, best_dtype

    dest.mkdir(parents=True, exist_ok=True)
    langs = list(splits["train"])
    pair = "-".join(lang for lang in langs if lang is not None)
    for lang in langs:
        dictionary = Dictionary()
        for line in splits["train"][lang]:
            for word in line.split():
                dictionary.add_symbol(word)
        dictionary.finalize()
        dictionary.save(str(dest / (f"dict.{lang}.txt" if lang else "dict.txt")))
        for split, sides in splits.items():
            prefix = dest / (f"{split}.{pair}.{lang}" if lang else split)
            builder = MMapIndexedDatasetBuilder(f"{prefix}.bin", dtype=best_dtype(len(dictionary)))
            for line in sides[lang]:
                builder.add_item(dictionary.encode_line(line, add_if_not_exist=False))
            builder.finalize(f"{prefix}.idx")
    return dest


def copy_splits(
    seed: int = 0, n_train: int = 400, words: list[str] = WORDS
) -> dict[str, dict[str, list[str]]]:
    rng = random.Random(seed)
    splits = {}
    for split, n in [("train", n_train), ("valid", 16), ("test", 40)]:
        lines = random_sentences(n, rng, words=words)
        splits[split] = {"src": lines, "tgt": list(lines)}
    return splits


def train(data: Path, save_dir: Path, *args: str) -> Path:
    result = run_cli("train", str(data), *args, "--save-dir", str(save_dir))
    assert result.returncode == 0, result.stderr
    return save_dir / "checkpoint_last.pt"


LINE = re.compile(r"([STHDPW])-(\d+)\t(.*)")


def parse_generation(stdout: str) -> dict[str, dict[int, object]]:
    """``{"S": {id: text}, "T": ..., "H": {id: (score, text)}, "D": ..., "P": {id: [floats]}}``
    (the first hypothesis of each id)."""
    rows: dict[str, dict[int, object]] = {k: {} for k in "STHDPW"}
    for line in stdout.splitlines():
        m = LINE.fullmatch(line)
        if not m:
            continue
        kind, sid, rest = m.group(1), int(m.group(2)), m.group(3)
        if sid in rows[kind]:
            continue
        if kind in "HD":
            score, text = rest.split("\t", 1)
            rows[kind][sid] = (float(score), text)
        elif kind == "P":
            rows[kind][sid] = [float(x) for x in rest.split()]
        else:
            rows[kind][sid] = rest
    return rows


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def reference_bleu(hyps: list[str], refs: list[str], order: int = 4, add_one: bool = False):
    """BLEU from its definition over whitespace tokens: clipped n-gram precisions, their
    geometric mean, the brevity penalty. ``add_one`` adds 1 to the matches and totals of 2- to
    ``order``-grams (fairseq's sentence BLEU). Returns (score, precisions, bp, syslen, reflen)."""
    matches, totals = [0] * order, [0] * order
    syslen = reflen = 0
    for hyp, ref in zip(hyps, refs):
        h, r = hyp.split(), ref.split()
        syslen, reflen = syslen + len(h), reflen + len(r)
        for n in range(1, order + 1):
            hc, rc = _ngrams(h, n), _ngrams(r, n)
            matches[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
            totals[n - 1] += max(len(h) - n + 1, 0)
    if add_one:
        for n in range(1, order):
            matches[n] += 1
            totals[n] += 1
    precisions = [100.0 * m / t if t else 0.0 for m, t in zip(matches, totals)]
    bp = 1.0 if syslen >= reflen else (math.exp(1 - reflen / syslen) if syslen else 0.0)
    if not matches[0] or min(matches) == 0:
        return 0.0, precisions, bp, syslen, reflen
    log_mean = sum(math.log(m / t) for m, t in zip(matches, totals)) / order
    return 100.0 * bp * math.exp(log_mean), precisions, bp, syslen, reflen


def fairseq_format(score, precisions, bp, syslen, reflen, order: int = 4) -> str:
    """fairseq's ``BLEU4 = ...`` line, written from its format string."""
    fmt = "BLEU{} = {:2.2f}, {:2.1f}" + "/{:2.1f}" * (order - 1)
    fmt += " (BP={:.3f}, ratio={:.3f}, syslen={}, reflen={})"
    return fmt.format(order, score, *precisions[:order], bp, syslen / reflen, syslen, reflen)
