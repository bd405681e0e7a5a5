"""`seqcore eval-lm`: loss and perplexity against a float64 recomputation from the model."""

from __future__ import annotations

import math
import re

import torch
from support import run_cli

from seqcore.checkpoint_utils import load_model_ensemble
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDataset

RESULT = re.compile(r"Loss \(base 2\): ([\d.]+), Perplexity: ([\d.]+)")
SPEED = re.compile(r"Evaluated ([\d,]+) tokens in [\d.]+s \([\d.]+ tokens/s\)")


def _eval_lm(data, *args):
    result = run_cli("eval-lm", str(data), *args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert SPEED.fullmatch(lines[-2]), lines[-2]
    loss, ppl = map(float, RESULT.fullmatch(lines[-1]).groups())
    return loss, ppl, result.stdout


def _stream(data) -> list[int]:
    """The test split as one token stream (every sentence ends in </s>)."""
    ds = MMapIndexedDataset(str(data / "test"))
    return torch.cat([ds[i] for i in range(len(ds))]).tolist()


@torch.no_grad()
def _reference_loss(data, checkpoint, block: int, context: int = 0) -> tuple[float, int]:
    """Base-2 loss of the test stream, cut in blocks of ``block`` tokens each preceded by up to
    ``context`` earlier tokens, in float64; and the number of tokens scored."""
    [model], _, _ = load_model_ensemble([str(checkpoint)], data=str(data))
    model.double().eval()
    eos = Dictionary().eos()
    stream = _stream(data)
    inputs = [eos] + stream[:-1]  # the token before each target; </s> before the first
    total, count = 0.0, 0
    for start in range(0, len(stream), block):
        end = min(start + block, len(stream))
        first = max(0, start - context)
        logits, _ = model.decoder(torch.tensor([inputs[first:end]]))
        lprobs = torch.log_softmax(logits[0].double(), dim=-1)
        offset = start - first
        targets = torch.tensor(stream[start:end])
        total += float(lprobs[offset:].gather(1, targets[:, None]).sum())
        count += end - start
    return -total / count / math.log(2), count


def test_loss_and_perplexity_match_a_float64_recomputation(lm_data, lm_model):
    loss, ppl, stdout = _eval_lm(lm_data, "--path", str(lm_model), "--batch-size", "4")
    expected, count = _reference_loss(lm_data, lm_model, block=16)
    assert abs(loss - expected) < 1e-4
    assert abs(ppl - 2**loss) < 0.01
    assert int(SPEED.fullmatch(stdout.splitlines()[-2]).group(1).replace(",", "")) == count


def test_context_window_scores_each_block_after_its_preceding_tokens(lm_data, lm_model):
    loss, ppl, _ = _eval_lm(
        lm_data, "--path", str(lm_model), "--context-window", "10", "--max-tokens", "64"
    )
    expected, _ = _reference_loss(lm_data, lm_model, block=6, context=10)
    assert abs(loss - expected) < 1e-4
    assert abs(ppl - 2**loss) < 0.01


def test_tokens_per_sample_changes_the_blocks(lm_data, lm_model):
    loss, _, _ = _eval_lm(lm_data, "--path", str(lm_model), "--tokens-per-sample", "5")
    expected, _ = _reference_loss(lm_data, lm_model, block=5)
    assert abs(loss - expected) < 1e-4


def test_output_word_probs_prints_every_scored_token(lm_data, lm_model):
    loss, _, stdout = _eval_lm(lm_data, "--path", str(lm_model), "--output-word-probs")
    dictionary = Dictionary.load(str(lm_data / "dict.txt"))
    words, values = [], []
    for line in stdout.splitlines()[:-2]:
        block_id, rest = line.split(" ", 1)
        assert block_id.isdigit()
        for item in rest.split("\t"):
            m = re.fullmatch(r"(\S+) \[(-?[\d.]+)\]", item)
            words.append(m.group(1))
            values.append(float(m.group(2)))
    stream = _stream(lm_data)
    assert sorted(words) == sorted(dictionary[t] for t in stream)
    assert abs(-sum(values) / len(values) / math.log(2) - loss) < 1e-3


def test_an_ensemble_averages_probabilities(lm_data, lm_model):
    single, _, _ = _eval_lm(lm_data, "--path", str(lm_model))
    double, _, _ = _eval_lm(lm_data, "--path", f"{lm_model}:{lm_model}")
    assert abs(single - double) < 1e-4
