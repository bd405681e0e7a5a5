"""One validation pass (seqcore.training.validation.validate_split) on a tiny transformer,
in-process: its loss against the cross entropy recomputed sentence by sentence with torch's
own function, and --max-valid-steps."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from support import TINY_TRANSFORMER, binarize_parallel, write_parallel_text

from seqcore.cli.train import train_command
from seqcore.training.loop import TrainingRun
from seqcore.training.validation import validate_split


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run set up (task, data, model, trainer) but not started: 12 sentences to validate."""
    root = tmp_path_factory.mktemp("valid")
    data = binarize_parallel(write_parallel_text(root / "text", 16, 12, seed=5), root / "bin")
    args = [str(data), *TINY_TRANSFORMER, "--save-dir", str(root / "ck"), "--device", "cpu",
            "--batch-size", "4", "--max-tokens", "1000"]  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    training = TrainingRun(train_command.resolve_args(args))
    training.setup()
    yield training
    training.progress.close()
    torch.set_num_threads(threads)


def reference(training) -> tuple[float, int, int]:
    """(summed cross entropy in nats, target tokens, sentences) of the valid split, one
    sentence at a time, without the loop's batching."""
    dataset = training.task.dataset("valid")
    model = training.trainer.model.eval()
    pad = training.task.target_dictionary.pad()
    total, ntokens = 0.0, 0
    with torch.no_grad():
        for i in range(len(dataset)):
            sample = dataset.collater([dataset[i]])
            logits = model(**sample["net_input"])[0].double()
            target = sample["target"]
            total += float(F.cross_entropy(logits.view(-1, logits.size(-1)), target.view(-1),
                                           ignore_index=pad, reduction="sum"))  # fmt: skip
            ntokens += int(target.ne(pad).sum())
    return total, ntokens, len(dataset)


def test_the_valid_loss_is_the_cross_entropy_per_token_in_base_2(run):
    metrics = validate_split(run.cfg, run.task, run.trainer, run.dist, "valid")
    total, ntokens, nsentences = reference(run)
    assert metrics["ntokens"] == ntokens and metrics["nsentences"] == nsentences
    assert metrics["loss"] == pytest.approx(total / ntokens / math.log(2), rel=1e-5)
    assert metrics["nll_loss"] == pytest.approx(metrics["loss"])  # cross_entropy: the same
    assert metrics["ppl"] == pytest.approx(2 ** metrics["loss"])
    assert metrics["wpb"] == pytest.approx(ntokens / 3)  # 12 sentences, --batch-size 4
    assert metrics["bsz"] == pytest.approx(4.0)
    assert run.trainer.num_updates == 0  # validation changes nothing


def test_max_valid_steps_stops_after_that_many_batches(run):
    one_step = dataclasses.replace(run.cfg.dataset, max_valid_steps=1)
    cfg = dataclasses.replace(run.cfg, configs={**run.cfg.configs, "dataset": one_step})
    metrics = validate_split(cfg, run.task, run.trainer, run.dist, "valid")
    assert metrics["nsentences"] == 4 and metrics["bsz"] == 4.0
