import math

import pytest
import torch
import torch.nn.functional as F

from seqcore.config import make_config
from seqcore.criterions.cross_entropy import CrossEntropyConfig, CrossEntropyCriterion
from seqcore.registry import CRITERIONS

PAD = 1  # the pad index of the fake task's dictionary (conftest.py)


def build(task, **values):
    cfg = make_config(CrossEntropyConfig, "cross_entropy", values)
    return CrossEntropyCriterion(cfg, task)


def test_registered_under_fairseq_name():
    entry = CRITERIONS.get("cross_entropy")
    assert entry.obj is CrossEntropyCriterion
    assert entry.config_class is CrossEntropyConfig


def test_padding_idx_comes_from_target_dictionary(task):
    assert build(task).padding_idx == PAD


def test_loss_equals_torch_cross_entropy_in_float64(task, make_batch):
    model, sample = make_batch()
    loss, sample_size, log = build(task)(model, sample)
    logits64 = model.logits.detach().double()
    expected = F.cross_entropy(
        logits64.view(-1, logits64.size(-1)),
        sample["target"].view(-1),
        ignore_index=PAD,
        reduction="sum",
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert sample_size == sample["ntokens"] == int(sample["target"].ne(PAD).sum())
    assert log["loss"] == pytest.approx(expected.item(), rel=1e-6)
    assert log["ntokens"] == sample["ntokens"]
    assert log["nsentences"] == 3
    assert log["sample_size"] == sample["ntokens"]


def test_unreduced_loss_is_per_token_and_zero_on_padding(task, make_batch):
    model, sample = make_batch()
    loss, _, _ = build(task)(model, sample, reduce=False)
    target = sample["target"].view(-1)
    logp = torch.log_softmax(model.logits.detach().double(), -1).view(-1, 11)
    expected = -logp.gather(1, target[:, None]).squeeze(1)
    expected[target.eq(PAD)] = 0
    torch.testing.assert_close(loss.double(), expected, rtol=1e-6, atol=1e-6)


def test_sentence_avg_divides_by_sentences(task, make_batch):
    model, sample = make_batch()
    _, sample_size, log = build(task, sentence_avg=True)(model, sample)
    assert sample_size == sample["target"].size(0) == log["sample_size"] == 3


def test_gradient_flows_to_logits(task, make_batch):
    model, sample = make_batch()
    loss, _, _ = build(task)(model, sample)
    loss.backward()
    probs = torch.softmax(model.logits.detach(), -1)
    onehot = F.one_hot(sample["target"], probs.size(-1)).float()
    expected = (probs - onehot) * sample["target"].ne(PAD)[..., None]
    torch.testing.assert_close(model.logits.grad, expected, rtol=1e-5, atol=1e-6)


def test_reduce_metrics_base2_and_perplexity():
    logs = [
        {"loss": 12.0, "ntokens": 10, "nsentences": 2, "sample_size": 10},
        {"loss": 7.5, "ntokens": 6, "nsentences": 1, "sample_size": 6},
    ]
    metrics = CrossEntropyCriterion.reduce_metrics(logs)
    assert metrics["loss"] == pytest.approx(19.5 / 16 / math.log(2))
    assert metrics["nll_loss"] == pytest.approx(19.5 / 16 / math.log(2))
    assert metrics["ppl"] == pytest.approx(2 ** (19.5 / 16 / math.log(2)))
    assert metrics["ntokens"] == 16 and metrics["nsentences"] == 3 and metrics["sample_size"] == 16


def test_reduce_metrics_with_sentence_avg_reports_nll_per_token():
    logs = [{"loss": 30.0, "ntokens": 20, "nsentences": 4, "sample_size": 4}]
    metrics = CrossEntropyCriterion.reduce_metrics(logs)
    assert metrics["loss"] == pytest.approx(30.0 / 4 / math.log(2))
    assert metrics["nll_loss"] == pytest.approx(30.0 / 20 / math.log(2))
    assert metrics["ppl"] == pytest.approx(2 ** (30.0 / 20 / math.log(2)))


def test_perplexity_overflow_is_infinite():
    metrics = CrossEntropyCriterion.reduce_metrics(
        [{"loss": 5000.0, "ntokens": 1, "nsentences": 1, "sample_size": 1}]
    )
    assert metrics["ppl"] == math.inf


def test_end_to_end_metrics_match_loss_over_tokens(task, make_batch):
    model, sample = make_batch(seed=3)
    _, _, log = build(task)(model, sample)
    metrics = CrossEntropyCriterion.reduce_metrics([log])
    logits64 = model.logits.detach().double()
    mean_nats = F.cross_entropy(
        logits64.view(-1, logits64.size(-1)), sample["target"].view(-1), ignore_index=PAD
    ).item()
    assert metrics["nll_loss"] == pytest.approx(mean_nats / math.log(2), rel=1e-6)
    assert metrics["ppl"] == pytest.approx(math.exp(mean_nats), rel=1e-6)
