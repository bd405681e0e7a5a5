import math

import pytest
import torch

from seqcore.config import make_config
from seqcore.criterions.cross_entropy import CrossEntropyConfig, CrossEntropyCriterion
from seqcore.criterions.label_smoothed_cross_entropy import (
    LabelSmoothedCrossEntropyConfig,
    LabelSmoothedCrossEntropyCriterion,
    label_smoothed_nll_loss,
)
from seqcore.errors import ConfigError
from seqcore.registry import CRITERIONS

PAD = 1  # the pad index of the fake task's dictionary (conftest.py)


def build(task, **values):
    cfg = make_config(LabelSmoothedCrossEntropyConfig, "label_smoothed_cross_entropy", values)
    return LabelSmoothedCrossEntropyCriterion(cfg, task)


def reference(logits, target, eps, prefix=0):
    """(loss, nll) from the label-smoothing formula, in float64, one token at a time."""
    lprobs = torch.log_softmax(logits.detach().double(), dim=-1)
    vocab = lprobs.size(-1)
    eps_i = eps / (vocab - 1)
    loss = nll_total = 0.0
    for b in range(target.size(0)):
        for t in range(prefix, target.size(1)):
            y = int(target[b, t])
            if y == PAD:
                continue
            nll = -float(lprobs[b, t, y])
            smooth = -float(lprobs[b, t].sum())
            loss += (1 - eps - eps_i) * nll + eps_i * smooth
            nll_total += nll
    return loss, nll_total


def test_registered_under_fairseq_name():
    entry = CRITERIONS.get("label_smoothed_cross_entropy")
    assert entry.obj is LabelSmoothedCrossEntropyCriterion
    assert entry.config_class is LabelSmoothedCrossEntropyConfig


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_loss_and_nll_match_formula_with_padding_ignored(task, make_batch, eps):
    model, sample = make_batch(seed=1)
    assert sample["target"].eq(PAD).any()
    loss, sample_size, log = build(task, label_smoothing=eps)(model, sample)
    exp_loss, exp_nll = reference(model.logits, sample["target"], eps)
    assert loss.item() == pytest.approx(exp_loss, rel=1e-6)
    assert log["loss"] == pytest.approx(exp_loss, rel=1e-6)
    assert log["nll_loss"] == pytest.approx(exp_nll, rel=1e-6)
    assert sample_size == log["sample_size"] == sample["ntokens"]
    assert log["ntokens"] == sample["ntokens"] and log["nsentences"] == 3
    assert "n_correct" not in log


def test_loss_is_cross_entropy_against_the_smoothed_distribution(task, make_batch):
    """Target ``1 - e`` on the true class and ``e / (V - 1)`` on every other class."""
    eps = 0.2
    model, sample = make_batch(seed=2)
    loss, _, _ = build(task, label_smoothing=eps)(model, sample)
    lprobs = torch.log_softmax(model.logits.detach().double(), -1)
    vocab = lprobs.size(-1)
    q = torch.full_like(lprobs, eps / (vocab - 1))
    q.scatter_(-1, sample["target"][..., None], 1 - eps)
    per_token = -(q * lprobs).sum(-1) * sample["target"].ne(PAD)
    assert loss.item() == pytest.approx(per_token.sum().item(), rel=1e-6)


def test_ignore_prefix_size_drops_leading_positions(task, make_batch):
    model, sample = make_batch(seed=4)
    loss, sample_size, log = build(task, label_smoothing=0.1, ignore_prefix_size=2)(model, sample)
    exp_loss, exp_nll = reference(model.logits, sample["target"], 0.1, prefix=2)
    assert loss.item() == pytest.approx(exp_loss, rel=1e-6)
    assert log["nll_loss"] == pytest.approx(exp_nll, rel=1e-6)
    full_loss, _ = reference(model.logits, sample["target"], 0.1)
    assert exp_loss < full_loss
    assert sample_size == sample["ntokens"]  # fairseq keeps the batch's token count


def test_zero_smoothing_equals_cross_entropy(task, make_batch):
    model, sample = make_batch(seed=5)
    ls_loss, _, ls_log = build(task)(model, sample)
    ce = CrossEntropyCriterion(make_config(CrossEntropyConfig, "cross_entropy", {}), task)
    ce_loss, _, _ = ce(model, sample)
    assert ls_loss.item() == pytest.approx(ce_loss.item(), rel=1e-6)
    assert ls_log["nll_loss"] == pytest.approx(ce_loss.item(), rel=1e-6)


def test_unreduced_losses_are_per_token(task, make_batch):
    model, sample = make_batch(seed=6)
    loss, _, _ = build(task, label_smoothing=0.1)(model, sample, reduce=False)
    assert loss.shape == (sample["target"].numel(),)
    assert bool((loss[sample["target"].view(-1).eq(PAD)] == 0).all())
    exp_loss, _ = reference(model.logits, sample["target"], 0.1)
    assert loss.sum().item() == pytest.approx(exp_loss, rel=1e-6)


def test_sentence_avg(task, make_batch):
    model, sample = make_batch()
    _, sample_size, log = build(task, label_smoothing=0.1, sentence_avg=True)(model, sample)
    assert sample_size == log["sample_size"] == 3


def test_report_accuracy_counts_argmax_hits_on_non_pad(task, make_batch):
    model, sample = make_batch(seed=7)
    target = sample["target"]
    with torch.no_grad():  # make a known set of positions correct
        model.logits[0, 0, int(target[0, 0])] += 100
        model.logits[1, 2, int(target[1, 2])] += 100
    _, _, log = build(task, label_smoothing=0.1, report_accuracy=True)(model, sample)
    pred = model.logits.detach().argmax(-1)
    mask = target.ne(PAD)
    expected_correct = sum(
        1
        for b in range(target.size(0))
        for t in range(target.size(1))
        if mask[b, t] and pred[b, t] == target[b, t]
    )
    assert expected_correct >= 2
    assert log["n_correct"] == expected_correct
    assert log["total"] == int(mask.sum())


def test_reduce_metrics_base2_perplexity_and_accuracy():
    logs = [
        {
            "loss": 20.0,
            "nll_loss": 15.0,
            "ntokens": 10,
            "nsentences": 2,
            "sample_size": 10,
            "n_correct": 4,
            "total": 10,
        },
        {
            "loss": 9.0,
            "nll_loss": 6.0,
            "ntokens": 5,
            "nsentences": 1,
            "sample_size": 5,
            "n_correct": 1,
            "total": 5,
        },
    ]
    m = LabelSmoothedCrossEntropyCriterion.reduce_metrics(logs)
    assert m["loss"] == pytest.approx(29.0 / 15 / math.log(2))
    assert m["nll_loss"] == pytest.approx(21.0 / 15 / math.log(2))
    assert m["ppl"] == pytest.approx(2 ** (21.0 / 15 / math.log(2)))
    assert m["accuracy"] == pytest.approx(100 * 5 / 15)
    assert m["ntokens"] == 15 and m["nsentences"] == 3 and m["sample_size"] == 15


def test_reduce_metrics_with_sentence_avg_reports_nll_per_token():
    logs = [{"loss": 40.0, "nll_loss": 30.0, "ntokens": 20, "nsentences": 4, "sample_size": 4}]
    m = LabelSmoothedCrossEntropyCriterion.reduce_metrics(logs)
    assert m["loss"] == pytest.approx(40.0 / 4 / math.log(2))
    assert m["nll_loss"] == pytest.approx(30.0 / 20 / math.log(2))
    assert m["ppl"] == pytest.approx(2 ** (30.0 / 20 / math.log(2)))
    assert "accuracy" not in m


def test_backward_gives_gradient_of_smoothed_target(task, make_batch):
    eps = 0.1
    model, sample = make_batch(seed=8)
    loss, _, _ = build(task, label_smoothing=eps)(model, sample)
    loss.backward()
    probs = torch.softmax(model.logits.detach().double(), -1)
    vocab = probs.size(-1)
    q = torch.full_like(probs, eps / (vocab - 1))
    q.scatter_(-1, sample["target"][..., None], 1 - eps)
    # d/dlogits of -sum_v q_v log p_v is (sum_v q_v) p - q
    expected = (q.sum(-1, keepdim=True) * probs - q) * sample["target"].ne(PAD)[..., None]
    torch.testing.assert_close(model.logits.grad.double(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ignore_index", [PAD, None])
def test_summed_loss_gradient_passes_gradcheck(ignore_index):
    """The summed loss and nll have a backward pass of their own: check both against finite
    differences in float64, with non-unit incoming gradients, repeated targets and padding."""
    torch.manual_seed(0)
    lprobs = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 1, 4, 4, 2, 1, 3])

    def both(lp):  # both outputs, so that each one's gradient is checked
        loss, nll = label_smoothed_nll_loss(lp, target, 0.2, ignore_index=ignore_index)
        return 2.5 * loss - 0.7 * nll

    assert torch.autograd.gradcheck(both, (lprobs,))
    assert torch.autograd.gradcheck(
        lambda lp: label_smoothed_nll_loss(lp, target, 0.2, ignore_index=ignore_index)[1],
        (lprobs,),
    )
    loss, nll = label_smoothed_nll_loss(lprobs, target, 0.2, ignore_index=ignore_index)
    per_token, per_nll = label_smoothed_nll_loss(lprobs, target, 0.2, ignore_index, reduce=False)
    torch.testing.assert_close(loss, per_token.sum())
    torch.testing.assert_close(nll, per_nll.sum())


@pytest.mark.parametrize("eps", [1.0, -0.1, 1.5])
def test_label_smoothing_out_of_range_is_a_config_error(eps):
    with pytest.raises(ConfigError, match="--label-smoothing"):
        make_config(
            LabelSmoothedCrossEntropyConfig,
            "label_smoothed_cross_entropy",
            {"label_smoothing": eps},
        )


def test_negative_ignore_prefix_size_is_a_config_error():
    with pytest.raises(ConfigError, match="--ignore-prefix-size"):
        make_config(
            LabelSmoothedCrossEntropyConfig,
            "label_smoothed_cross_entropy",
            {"ignore_prefix_size": -1},
        )


def tempered(model):
    """``model`` with a normalisation of its own (a temperature of 2)."""

    class Tempered(type(model)):
        def get_normalized_probs(self, net_output, log_probs):
            return super().get_normalized_probs((net_output[0] / 2.0, None), log_probs)

    return Tempered(model.logits.detach())


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_a_model_with_its_own_normalisation_is_scored_by_it(task, make_batch, eps):
    model, sample = make_batch(seed=4)
    loss, _, log = build(task, label_smoothing=eps)(tempered(model), sample)
    expected_loss, expected_nll = reference(model.logits / 2.0, sample["target"], eps)
    assert float(loss.detach()) == pytest.approx(expected_loss, rel=1e-5)
    assert log["nll_loss"] == pytest.approx(expected_nll, rel=1e-5)
    ce_cfg = make_config(CrossEntropyConfig, "cross_entropy", {})
    ce_loss, _, _ = CrossEntropyCriterion(ce_cfg, task)(tempered(model), sample)
    assert float(ce_loss.detach()) == pytest.approx(
        reference(model.logits / 2.0, sample["target"], 0)[1]
    )


def test_bf16_scores_train_as_float32_log_probabilities_do(task, make_batch):
    """Under --bf16 the decoder's scores are bfloat16: the loss is still taken in float32 and
    their gradient is the float64 one, rounded."""
    model, sample = make_batch(seed=6)
    half = type(model)(model.logits.detach().bfloat16())
    loss, _, _ = build(task, label_smoothing=0.1)(half, sample)
    assert loss.dtype == torch.float32
    loss.backward()
    x = half.logits.detach().double().requires_grad_()
    expected, _ = reference(x, sample["target"], 0.1)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    lprobs = torch.log_softmax(x, -1)
    q = torch.full_like(lprobs, 0.1 / (lprobs.size(-1) - 1))
    q.scatter_(-1, sample["target"][..., None], 0.9)
    keep = sample["target"].ne(PAD)[..., None]
    (-(q * lprobs) * keep).sum().backward()
    assert half.logits.grad.dtype == torch.bfloat16
    torch.testing.assert_close(half.logits.grad.double(), x.grad, rtol=1e-2, atol=1e-3)
