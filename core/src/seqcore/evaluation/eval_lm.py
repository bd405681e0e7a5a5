"""``seqcore eval-lm``: a language model's loss and perplexity over a split, as fairseq-eval-lm.

Every target token of every block is scored by the model (the mean of the ensemble's
probabilities); tokens whose log-probability is infinite are left out, as fairseq does. It
prints::

    Evaluated <N> tokens in <T>s (<N/T> tokens/s)
    Loss (base 2): <L>, Perplexity: <2**L>

where ``L = -(sum of the natural log-probabilities) / (tokens scored) / ln 2``.
With ``--output-word-probs`` each block is first printed as ``<id> word [logprob]\\tword ...``
(natural logarithm, as fairseq).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Any

import torch

from seqcore.config.resolve import ResolvedConfig
from seqcore.errors import ConfigError
from seqcore.evaluation.config import EvalLMConfig
from seqcore.evaluation.context_window import ContextWindowDataset
from seqcore.evaluation.loading import (
    LoadedModels,
    load_for_inference,
    move_to,
    resolve_max_positions,
    synchronize,
)

log = logging.getLogger("seqcore.eval_lm")


def _set_block_size(loaded: LoadedModels, opts: EvalLMConfig) -> int:
    """Blocks of ``--tokens-per-sample`` (default: as trained) minus ``--context-window``."""
    task_cfg = loaded.task.cfg
    if not hasattr(task_cfg, "tokens_per_sample"):
        if opts.tokens_per_sample or opts.context_window:
            raise ConfigError(
                f"task {loaded.cfg.selections['task']!r} has no --tokens-per-sample: "
                "--tokens-per-sample and --context-window do not apply"
            )
        return 0
    total = opts.tokens_per_sample or task_cfg.tokens_per_sample
    if opts.context_window >= total:
        raise ConfigError(
            f"--context-window {opts.context_window} must be smaller than --tokens-per-sample "
            f"{total}"
        )
    task_cfg.tokens_per_sample = total - opts.context_window
    return task_cfg.tokens_per_sample


@torch.no_grad()
def token_log_probs(models: list[torch.nn.Module], sample: dict[str, Any]) -> torch.Tensor:
    """B x T natural log-probabilities of ``sample["target"]`` (the mean probability of the
    models), float32."""
    probs = None
    target = sample["target"]
    for model in models:
        net_output = model(**sample["net_input"])
        if len(models) == 1:
            lprobs = model.get_normalized_probs(net_output, log_probs=True).float()
            return lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        p = model.get_normalized_probs(net_output, log_probs=False).float()
        p = p.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        probs = p if probs is None else probs + p
    return (probs / len(models)).log()


def _word_probs_line(sample_id: int, tokens: list[int], scores: list[float], dictionary) -> str:
    words = "\t".join(f"{dictionary[t]} [{s:2f}]" for t, s in zip(tokens, scores))
    return f"{sample_id} {words}"


def eval_lm(cfg: ResolvedConfig, stdout: Any = None) -> dict[str, float]:
    """Run ``seqcore eval-lm``; returns ``{"loss": base-2 loss, "perplexity": 2**loss}``."""
    opts: EvalLMConfig = cfg.eval_lm
    out = stdout or sys.stdout
    torch.manual_seed(opts.seed)
    loaded = load_for_inference(opts)
    task, models = loaded.task, loaded.models
    if any(getattr(m, "encoder", None) is not None for m in models):
        raise ConfigError(
            f"seqcore eval-lm evaluates language models; {loaded.cfg.selections['arch']!r} is "
            "an encoder-decoder model (use seqcore generate)"
        )
    log.info("num. model params: %s", f"{sum(p.numel() for p in models[0].parameters()):,}")
    block_size = _set_block_size(loaded, opts)
    task.load_dataset(opts.gen_subset)
    dataset = task.dataset(opts.gen_subset)
    if opts.context_window > 0:
        pad = task.source_dictionary.pad()
        dataset = ContextWindowDataset(dataset, block_size, opts.context_window, pad)
    itr = task.get_batch_iterator(
        dataset,
        max_tokens=opts.max_tokens or 36000,
        max_sentences=opts.batch_size,
        max_positions=resolve_max_positions(*(m.max_positions() for m in models)),
        ignore_invalid_inputs=True,
        seed=opts.seed,
        num_workers=0,
    ).next_epoch_itr(shuffle=False)

    pad = task.target_dictionary.pad()
    remove_bos = bool(getattr(task.cfg, "add_bos_token", False))
    score_sum, count, ntokens, seconds = 0.0, 0, 0, 0.0
    for sample in itr:
        if not sample:
            continue
        sample = move_to(sample, loaded.device)
        synchronize(loaded.device)
        start = time.perf_counter()
        scores = token_log_probs(models, sample)
        synchronize(loaded.device)
        seconds += time.perf_counter() - start
        ntokens += int(sample["ntokens"])
        starts = sample.get("start_indices") or [0] * scores.size(0)
        target = sample["target"]
        for i, sample_id in enumerate(sample["id"].tolist()):
            row = target[i, starts[i] :]
            keep = row.ne(pad)
            tokens, pos_scores = row[keep], scores[i, starts[i] :][keep]
            if remove_bos:
                tokens, pos_scores = tokens[1:], pos_scores[1:]
            finite = torch.isfinite(pos_scores)
            if not bool(finite.all()):
                skipped = task.target_dictionary.string(tokens[~finite])
                log.info("skipping tokens with inf scores: %s", skipped)
            score_sum += float(pos_scores[finite].double().sum())
            count += int(finite.sum())
            if opts.output_word_probs:
                out.write(
                    _word_probs_line(
                        sample_id,
                        tokens.tolist(),
                        pos_scores.tolist(),
                        task.source_dictionary,
                    )
                    + "\n"
                )
    loss = -score_sum / count / math.log(2) if count > 0 else 0.0
    perplexity = 2**loss
    rate = ntokens / seconds if seconds > 0 else 0.0
    out.write(f"Evaluated {ntokens:,} tokens in {seconds:.1f}s ({rate:.2f} tokens/s)\n")
    out.write(f"Loss (base 2): {loss:.4f}, Perplexity: {perplexity:.2f}\n")
    out.flush()
    return {"loss": loss, "perplexity": perplexity}
