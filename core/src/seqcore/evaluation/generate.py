"""``seqcore generate``: translate a binarized split with beam search, as fairseq-generate.

For each sentence, in the order the batches come (each batch sorted by source length, as
fairseq prints them), it writes::

    S-<id>  source text
    T-<id>  reference text                       (when the split has a target side)
    H-<id>  <score>  hypothesis tokens           (score: log2-probability, length-normalized)
    D-<id>  <score>  detokenized hypothesis
    P-<id>  log2-probability of each token, </s> included

then the speed and, with a target side, the corpus BLEU of the best hypotheses (D- text against
detokenized T- text). ``--score-reference`` prints the references as the H- lines, with their
scores under the model, instead of searching.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import torch

from seqcore.config.resolve import ResolvedConfig
from seqcore.data.text import OutputText, bpe_of, tokenizer_of
from seqcore.errors import ConfigError, DataError
from seqcore.evaluation.config import GenerateConfig
from seqcore.evaluation.loading import (
    LoadedModels,
    load_for_inference,
    move_to,
    resolve_max_positions,
    synchronize,
)
from seqcore.evaluation.scoring import TOKEN_BLEU_NOTE, CorpusScorer
from seqcore.generation import GenerationConfig, SequenceGenerator, SequenceScorer
from seqcore.safe_files import make_folder, open_replacing, remove_leftovers

log = logging.getLogger("seqcore.generate")

LOG2 = math.log(2)


def require_encoder_decoder(loaded: LoadedModels, command: str) -> None:
    """Translation-style generation needs a source side; a language model has none."""
    task = loaded.task
    if task.source_dictionary is None or any(
        getattr(m, "encoder", None) is None for m in loaded.models
    ):
        arch = loaded.cfg.selections["arch"]
        raise ConfigError(
            f"seqcore {command} translates with encoder-decoder models; {arch!r} has no encoder "
            "(evaluate a language model with seqcore eval-lm)"
        )


def hypothesis_lines(
    sample_id: int, hypos: list[dict[str, Any]], nbest: int, tgt_dict: Any, text: OutputText
) -> tuple[list[str], str | None]:
    """The H-/D-/P- lines of one sentence's best ``nbest`` hypotheses, and the detokenized
    text of the best one."""
    lines = []
    best = None
    for hypo in hypos[:nbest]:
        hypo_str = text.string(tgt_dict, hypo["tokens"].int().cpu())
        detok = text.decode(hypo_str)
        if best is None:
            best = detok
        score = hypo["score"] / LOG2
        lines.append(f"H-{sample_id}\t{score}\t{hypo_str}")
        lines.append(f"D-{sample_id}\t{score}\t{detok}")
        positional = (hypo["positional_scores"].float() / LOG2).tolist()
        lines.append(f"P-{sample_id}\t" + " ".join(f"{x:.4f}" for x in positional))
    return lines, best


@contextlib.contextmanager
def output_file(results_path: str | None, name: str) -> Iterator[IO[str]]:
    """stdout, or ``<results_path>/<name>`` (the folder is created), which appears complete when
    generation ends, or not at all."""
    if results_path is None:
        yield sys.stdout
        return
    make_folder(results_path, "--results-path")
    remove_leftovers(results_path)
    path = os.path.join(results_path, name)
    with open_replacing(path, "w", "--results-path file", encoding="utf-8", newline="\n") as f:
        yield f


def batches(loaded: LoadedModels, opts: GenerateConfig) -> Any:
    task = loaded.task
    task.load_dataset(opts.gen_subset)
    max_tokens = opts.max_tokens
    if max_tokens is None and opts.batch_size is None:
        max_tokens = 12000  # fairseq-generate's default
    max_positions = resolve_max_positions(
        task.max_positions(), *(m.max_positions() for m in loaded.models)
    )
    itr = task.get_batch_iterator(
        task.dataset(opts.gen_subset),
        max_tokens=max_tokens,
        max_sentences=opts.batch_size,
        max_positions=max_positions,
        ignore_invalid_inputs=opts.skip_invalid_size_inputs_valid_test,
        required_batch_size_multiple=opts.required_batch_size_multiple,
        seed=opts.seed,
        num_shards=opts.num_shards,
        shard_id=opts.shard_id,
        num_workers=0,
    )
    return itr.next_epoch_itr(shuffle=False)


def generate(cfg: ResolvedConfig) -> float | None:
    """Run ``seqcore generate``; returns the BLEU score (``None`` without references)."""
    gen: GenerationConfig = cfg.generation
    opts: GenerateConfig = cfg.generate
    torch.manual_seed(opts.seed)
    loaded = load_for_inference(opts)
    require_encoder_decoder(loaded, "generate")
    src_dict = loaded.task.source_dictionary
    tgt_dict = loaded.task.target_dictionary
    text = OutputText(opts.remove_bpe, bpe_of(opts.bpe, opts.data), tokenizer_of(opts))
    generator: SequenceGenerator | SequenceScorer
    if opts.score_reference:
        generator = SequenceScorer(loaded.models, tgt_dict)
    else:
        generator = SequenceGenerator.from_config(loaded.models, tgt_dict, gen)
    scorer = CorpusScorer(
        opts.scoring, opts.sacrebleu_tokenizer, opts.sacrebleu_lowercase, text.detokenizes
    )
    has_target = False
    num_sentences = num_tokens = 0
    seconds = 0.0
    with output_file(opts.results_path, f"generate-{opts.gen_subset}.txt") as out:
        for sample in batches(loaded, opts):
            if not sample:
                continue
            sample = move_to(sample, loaded.device)
            target = sample.get("target")
            if opts.score_reference and target is None:
                raise DataError(
                    f"--score-reference: the {opts.gen_subset} split of {opts.data} has no "
                    "target side to score"
                )
            prefix = None
            if gen.prefix_size > 0 and target is not None:
                prefix = target[:, : gen.prefix_size]
            synchronize(loaded.device)
            start = time.perf_counter()
            hypos = generator.generate(sample, prefix_tokens=prefix)
            synchronize(loaded.device)
            seconds += time.perf_counter() - start
            num_tokens += sum(len(h[0]["tokens"]) for h in hypos if h)
            num_sentences += len(hypos)

            src_tokens = sample["net_input"]["src_tokens"]
            for i, sample_id in enumerate(sample["id"].tolist()):
                src_str = text.decode(text.string(src_dict, src_tokens[i].cpu()))
                lines = [f"S-{sample_id}\t{src_str}"]
                target_str = None
                if target is not None:
                    has_target = True
                    target_str = text.string(tgt_dict, target[i].cpu(), escape_unk=True)
                    target_str = text.decode(target_str)
                    lines.append(f"T-{sample_id}\t{target_str}")
                hyp_lines, best = hypothesis_lines(sample_id, hypos[i], gen.nbest, tgt_dict, text)
                lines += hyp_lines
                if target_str is not None and best is not None:
                    scorer.add_string(target_str, best)
                if not opts.quiet:
                    out.write("\n".join(lines) + "\n")
            out.flush()

        out.write("NOTE: hypothesis and token scores are output in base 2\n")
        out.write(
            f"Translated {num_sentences:,} sentences ({num_tokens:,} tokens) in {seconds:.1f}s "
            f"({num_sentences / seconds if seconds else 0.0:.2f} sentences/s, "
            f"{num_tokens / seconds if seconds else 0.0:.2f} tokens/s)\n"
        )
        if not has_target:
            return None
        if scorer.on_tokens:
            out.write(TOKEN_BLEU_NOTE + "\n")
        out.write(f"Generate {opts.gen_subset} with beam={gen.beam}: {scorer.result_string()}\n")
    return scorer.score()
