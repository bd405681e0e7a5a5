"""One update of the trainer, in-process, against a float64 recomputation: gradients summed
over the micro-batches and divided by their total sample size, then SGD; non-finite gradients
skip the update and, too many in a row, stop training."""

from __future__ import annotations

import pytest
import torch
from core.training.regression import batch, make_trainer

from seqcore.training import TrainingError


def test_one_update_over_two_micro_batches_matches_the_formula():
    trainer = make_trainer()
    w = trainer.model.weight.detach().clone().squeeze(0)
    samples = [batch(4, 0), batch(2, 1)]
    result = trainer.train_step(samples)
    # d/dw sum (x.w - y)^2 = 2 X^T (Xw - y), summed over both batches, divided by 4 + 2 rows
    grad = sum(2 * s["x"].T @ (s["x"] @ w - s["y"]) for s in samples) / 6
    assert torch.allclose(trainer.model.weight.detach().squeeze(0), w - 0.1 * grad, atol=1e-12)
    assert trainer.num_updates == 1
    assert result["sample_size"] == 6 and result["lr"] == pytest.approx(0.1)
    assert result["gnorm"] == pytest.approx(float(grad.norm()))
    assert [log["loss"] for log in result["logs"]] == pytest.approx(
        [float(((s["x"] @ w - s["y"]) ** 2).sum()) for s in samples]
    )


def test_clip_norm_scales_the_gradient_to_the_given_norm():
    trainer = make_trainer("--clip-norm", "0.01")
    w = trainer.model.weight.detach().clone()
    result = trainer.train_step([batch(5, 2)])
    step = (w - trainer.model.weight.detach()) / 0.1
    assert result["gnorm"] > 0.01
    assert float(step.norm()) == pytest.approx(0.01, rel=1e-5)


def test_non_finite_gradients_skip_the_update_then_stop_training():
    trainer = make_trainer("--max-nonfinite-updates", "2")
    w = trainer.model.weight.detach().clone()
    bad = batch(3, 3)
    bad["y"][0] = float("inf")
    assert trainer.train_step([bad]) is None
    assert trainer.num_updates == 0 and torch.equal(trainer.model.weight.detach(), w)
    assert trainer.train_step([batch(3, 4)]) is not None  # a good update resets the count
    assert trainer.train_step([bad]) is None
    with pytest.raises(TrainingError, match="not finite in 2 updates in a row"):
        trainer.train_step([bad])
