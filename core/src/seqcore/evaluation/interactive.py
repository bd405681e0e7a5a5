"""``seqcore interactive``: translate raw sentences as they arrive, as fairseq-interactive.

Lines are read ``--buffer-size`` at a time (default 1: each line is translated as soon as it is
read, and its output flushed), segmented with the data folder's sentencepiece model when there
is one, and answered in input order, each sentence with::

    S-<id>  source tokens
    W-<id>  <seconds>  seconds
    H-<id>  <score>  hypothesis tokens
    D-<id>  <score>  detokenized hypothesis
    P-<id>  log2-probability of each token

``<id>`` is the line's number, counting from 0. An empty (or blank) line is answered with an
empty line.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import torch

from seqcore.config.resolve import ResolvedConfig
from seqcore.data.iterators import get_batch_iterator
from seqcore.data.language_pair_dataset import LanguagePairDataset
from seqcore.data.text import InputText, OutputText, bpe_of, tokenizer_of
from seqcore.errors import DataError
from seqcore.evaluation.config import InteractiveConfig
from seqcore.evaluation.generate import hypothesis_lines, require_encoder_decoder
from seqcore.evaluation.loading import (
    LoadedModels,
    load_for_inference,
    move_to,
    resolve_max_positions,
    synchronize,
)
from seqcore.generation import GenerationConfig, SequenceGenerator

log = logging.getLogger("seqcore.interactive")


@contextlib.contextmanager
def input_lines(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    try:
        f = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as e:
        raise DataError(f"--input {path}: {e.strerror or e}") from None
    with f:
        yield f


def buffered(lines: IO[str], size: int) -> Iterator[list[str]]:
    """Lists of up to ``size`` lines, each handed on as soon as it is complete (no read-ahead)."""
    buffer: list[str] = []
    while True:
        line = lines.readline()
        if not line:
            break
        buffer.append(line)
        if len(buffer) >= size:
            yield buffer
            buffer = []
    if buffer:
        yield buffer


class Translator:
    """Everything needed to answer a chunk of input lines."""

    def __init__(self, loaded: LoadedModels, gen: GenerationConfig, opts: InteractiveConfig):
        self.loaded = loaded
        self.gen = gen
        self.opts = opts
        task = loaded.task
        self.src_dict = task.source_dictionary
        self.tgt_dict = task.target_dictionary
        bpe = bpe_of(opts.bpe, opts.data)
        tokenizer = tokenizer_of(opts)
        self.source = InputText(bpe, opts.data, tokenizer)
        self.text = OutputText(opts.remove_bpe, bpe, tokenizer)
        self.generator = SequenceGenerator.from_config(loaded.models, self.tgt_dict, gen)
        self.max_positions = resolve_max_positions(
            task.max_positions(), *(m.max_positions() for m in loaded.models)
        )
        self.left_pad_source = getattr(task.cfg, "left_pad_source", True)
        self.batch_size = opts.batch_size
        if self.batch_size is None and opts.max_tokens is None:
            self.batch_size = 1  # fairseq-interactive's default
        self.translate_seconds = 0.0

    def _max_source(self) -> int | None:
        limit = self.max_positions
        return limit[0] if isinstance(limit, tuple) else limit

    def encode(self, line: str, number: int) -> torch.Tensor:
        tokens = self.src_dict.encode_line(self.source.encode(line), add_if_not_exist=False).long()
        limit = self._max_source()
        if limit is not None and len(tokens) > limit:
            where = "stdin" if self.opts.input == "-" else self.opts.input
            raise DataError(
                f"{where} line {number}: {len(tokens)} tokens (with </s>), more than the "
                f"model's --max-source-positions {limit}"
            )
        return tokens

    def answer(self, lines: list[str], start_id: int) -> list[str]:
        """The output lines for input ``lines``, whose first has id ``start_id``."""
        sentences = {}
        for k, line in enumerate(lines):
            line = line.strip()
            if line:
                sentences[start_id + k] = self.encode(line, start_id + k + 1)
        results: dict[int, list[str]] = {}
        if sentences:
            results = self._translate(sentences)
        out = []
        for k in range(len(lines)):
            out += results.get(start_id + k, [""])
        return out

    def _translate(self, sentences: dict[int, torch.Tensor]) -> dict[int, list[str]]:
        ids = list(sentences)
        tokens = [sentences[i] for i in ids]
        dataset = LanguagePairDataset(
            tokens,
            [len(t) for t in tokens],
            self.src_dict,
            left_pad_source=self.left_pad_source,
            shuffle=False,
        )
        itr = get_batch_iterator(
            dataset,
            max_tokens=self.opts.max_tokens,
            max_sentences=self.batch_size,
            max_positions=self.max_positions,
            seed=self.opts.seed,
        ).next_epoch_itr(shuffle=False)
        device = self.loaded.device
        results = {}
        for sample in itr:
            sample = move_to(sample, device)
            synchronize(device)
            start = time.perf_counter()
            hypos = self.generator.generate(sample)
            synchronize(device)
            seconds = time.perf_counter() - start
            self.translate_seconds += seconds
            src_tokens = sample["net_input"]["src_tokens"]
            for i, index in enumerate(sample["id"].tolist()):
                sample_id = ids[index]
                src_str = self.text.string(self.src_dict, src_tokens[i].cpu())
                lines = [f"S-{sample_id}\t{src_str}"]
                lines.append(f"W-{sample_id}\t{seconds / len(hypos):.3f}\tseconds")
                hyp_lines, _ = hypothesis_lines(
                    sample_id, hypos[i], self.gen.nbest, self.tgt_dict, self.text
                )
                results[sample_id] = lines + hyp_lines
        return results


def interactive(cfg: ResolvedConfig, stdout: Any = None) -> None:
    """Run ``seqcore interactive``."""
    gen: GenerationConfig = cfg.generation
    opts: InteractiveConfig = cfg.interactive
    out = stdout or sys.stdout
    torch.manual_seed(opts.seed)
    started = time.perf_counter()
    loaded = load_for_inference(opts)
    require_encoder_decoder(loaded, "interactive")
    translator = Translator(loaded, gen, opts)
    log.info("NOTE: hypothesis and token scores are output in base 2")
    if opts.input == "-" and sys.stdin.isatty():
        log.info("Type the input sentence and press return:")
    start_id = 0
    with input_lines(opts.input) as lines:
        for chunk in buffered(lines, opts.buffer_size):
            answer = translator.answer(chunk, start_id)
            out.write("\n".join(answer) + "\n")
            out.flush()
            start_id += len(chunk)
    log.info(
        "Total time: %.3f seconds; translation time: %.3f",
        time.perf_counter() - started,
        translator.translate_seconds,
    )
