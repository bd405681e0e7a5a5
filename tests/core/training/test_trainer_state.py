"""The trainer beyond one update, in-process, against float64 recomputations: validation steps,
the learning rate the scheduler sets for each update, and state_dict/load_state_dict (what a
checkpoint carries) resuming a run exactly."""

from __future__ import annotations

import io
import math

import pytest
import torch
from core.training.regression import W0, batch, make_trainer

from seqcore.errors import CheckpointError
from seqcore.training import Trainer


def gradient(w: torch.Tensor, sample: dict[str, torch.Tensor]) -> torch.Tensor:
    """d/dw of the mean over rows of (x.w - y)^2 (the summed loss divided by the sample size)."""
    x, y = sample["x"], sample["y"]
    return 2 * x.T @ (x @ w - y) / len(y)


def saved(trainer: Trainer) -> dict:
    """The trainer's state as a checkpoint holds it: written and read back (a state_dict shares
    tensors with the live trainer, a checkpoint does not)."""
    buffer = io.BytesIO()
    torch.save(trainer.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def weights(trainer: Trainer) -> torch.Tensor:
    return trainer.model.weight.detach().clone().squeeze(0)


def test_valid_step_scores_without_gradients_or_changes():
    trainer = make_trainer()
    sample = batch(4, 0)
    log = trainer.valid_step(sample)
    w = torch.tensor(W0, dtype=torch.float64)
    assert log["loss"] == pytest.approx(float(((sample["x"] @ w - sample["y"]) ** 2).sum()))
    assert log["grad"] is False  # computed under no_grad
    assert torch.equal(weights(trainer), w) and trainer.num_updates == 0
    assert trainer.model.weight.grad is None
    assert trainer.valid_step({}) is None  # an empty batch (an uneven shard) scores nothing


def test_each_update_uses_the_rate_the_scheduler_set_after_the_previous_one():
    init, peak, warmup = 0.01, 0.1, 2
    schedule = ["--lr-scheduler", "inverse_sqrt", "--warmup-updates", str(warmup)]
    trainer = make_trainer(*schedule, "--lr", str(peak), "--warmup-init-lr", str(init))

    def scheduled(n: int) -> float:  # fairseq's inverse_sqrt, written out
        return init + n * (peak - init) / warmup if n < warmup else peak * math.sqrt(warmup / n)

    assert trainer.get_lr() == pytest.approx(init)
    w = weights(trainer)
    for n in range(1, 6):
        sample = batch(3, n)
        expected = w - scheduled(n - 1) * gradient(w, sample)
        result = trainer.train_step([sample])
        w = weights(trainer)
        assert torch.allclose(w, expected, atol=1e-12), n
        assert result["lr"] == pytest.approx(scheduled(n)) == trainer.get_lr()


def test_state_dict_round_trip_resumes_the_run_exactly():
    flags = ("--momentum", "0.9", "--lr-scheduler", "inverse_sqrt", "--warmup-updates", "3")
    first = make_trainer(*flags)
    for n in range(4):
        first.train_step([batch(3, n)])
    state = saved(first)
    assert state["num_updates"] == 4
    resumed = make_trainer(*flags)
    with torch.no_grad():
        resumed.model.weight.zero_()  # the weights come from the state too
    resumed.load_state_dict(state, "ck.pt", reset_optimizer=False, reset_lr_scheduler=False)
    assert resumed.num_updates == 4 and resumed.get_lr() == pytest.approx(first.get_lr())
    for n in range(4, 7):  # the momentum buffer and the schedule carry on
        a, b = first.train_step([batch(3, n)]), resumed.train_step([batch(3, n)])
        assert a["lr"] == b["lr"]
        assert torch.equal(weights(first), weights(resumed))


def test_momentum_state_is_what_the_formula_gives_after_a_round_trip():
    first = make_trainer("--momentum", "0.5")
    w0 = weights(first)
    first.train_step([batch(2, 0)])
    resumed = make_trainer("--momentum", "0.5")
    resumed.load_state_dict(saved(first), "ck.pt", reset_optimizer=False,
                            reset_lr_scheduler=False)  # fmt: skip
    w1 = weights(resumed)
    resumed.train_step([batch(2, 1)])
    buffer = 0.5 * gradient(w0, batch(2, 0)) + gradient(w1, batch(2, 1))  # torch's SGD momentum
    assert torch.allclose(weights(resumed), w1 - 0.1 * buffer, atol=1e-12)


def test_reset_optimizer_keeps_the_weights_and_starts_counting_again():
    first = make_trainer("--lr-scheduler", "inverse_sqrt", "--warmup-updates", "4")
    for n in range(3):
        first.train_step([batch(3, n)])
    resumed = make_trainer("--lr-scheduler", "inverse_sqrt", "--warmup-updates", "4")
    resumed.load_state_dict(saved(first), "ck.pt", reset_optimizer=True,
                            reset_lr_scheduler=False)  # fmt: skip
    assert torch.equal(weights(resumed), weights(first))
    assert resumed.num_updates == 0 and resumed.get_lr() == pytest.approx(0.0)  # warmup from 0


def test_state_of_another_optimizer_is_refused_with_the_flag_that_resets_it():
    first = make_trainer()
    first.train_step([batch(3, 0)])
    state = {**saved(first), "cfg": {"selections": {"optimizer": "adam"}}}
    resumed = make_trainer()
    with pytest.raises(CheckpointError) as caught:
        resumed.load_state_dict(state, "ck.pt", reset_optimizer=False, reset_lr_scheduler=False)
    assert str(caught.value) == (
        "ck.pt was trained with --optimizer adam, not sgd: its state does not apply here; add "
        "--reset-optimizer to start the optimizer afresh (the model weights are still loaded)"
    )
    resumed.load_state_dict(state, "ck.pt", reset_optimizer=True, reset_lr_scheduler=False)
    assert torch.equal(weights(resumed), weights(first))
