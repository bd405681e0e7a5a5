"""One validation pass over one split: its batches (this process's shard, in a fixed order),
the model's valid steps, and the figures of all processes together, as fairseq's validate
computes them. What the run does with the figures (best checkpoint, patience, reports) stays in
the training loop."""

from __future__ import annotations

import itertools
import time
from typing import Any

from seqcore.training import distributed
from seqcore.training.batches import min_positions
from seqcore.training.meters import validation_throughput


def validate_split(
    cfg: Any, task: Any, trainer: Any, dist: distributed.DistributedContext, split: str
) -> dict[str, Any]:
    """The task's metrics of ``split`` (loss, nll_loss, ppl, a task's own such as bleu) with
    wps, wpb and bsz; empty when the split gave no batch. At most ``--max-valid-steps`` batches
    per process."""
    itr = task.get_batch_iterator(
        task.dataset(split),
        max_tokens=cfg.dataset.max_tokens_valid or cfg.dataset.max_tokens,
        max_sentences=cfg.dataset.batch_size_valid or cfg.dataset.batch_size,
        max_positions=min_positions(task.max_positions(), trainer.model.max_positions()),
        ignore_invalid_inputs=cfg.dataset.skip_invalid_size_inputs_valid_test,
        required_batch_size_multiple=cfg.dataset.required_batch_size_multiple,
        seed=cfg.common.seed,
        num_shards=dist.world_size,
        shard_id=dist.rank,
        num_workers=0,
        epoch=1,
    ).next_epoch_itr(shuffle=False)
    start = time.perf_counter()
    samples = itertools.islice(itr, cfg.dataset.max_valid_steps)
    logs = [lg for s in samples if (lg := trainer.valid_step(s)) is not None]
    batches = distributed.all_reduce_sum(float(len(logs)), dist)
    logs = distributed.all_reduce_logs(logs, dist)
    metrics = dict(task.reduce_metrics(logs, trainer.criterion))
    if metrics:
        metrics.update(validation_throughput(logs, batches, time.perf_counter() - start))
    return metrics
