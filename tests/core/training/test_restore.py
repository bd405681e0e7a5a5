"""What a resumed run takes from its checkpoint: fairseq's --reset-* and --finetune-from-model
rules, and a clear refusal when the checkpoint's optimizer state cannot apply."""

import pytest
import torch
from support import TINY_TRANSFORMER as TINY
from support import json_records, run_cli, train_tiny

from seqcore.checkpoint_utils import load_checkpoint_file

PLATEAU = [  # the learning rate halves after every validation from the second one on
    "--lr-scheduler",
    "reduce_lr_on_plateau",
    "--lr-threshold",
    "0.99",
    "--lr-patience",
    "0",
    "--lr-shrink",
    "0.5",
]


def _run(data_bin, save_dir, *extra):
    return run_cli("train", str(data_bin), *TINY, "--save-dir", str(save_dir), *extra)


@pytest.fixture(scope="module")
def trained(data_bin, tmp_path_factory):
    """Three epochs (7 updates each) with adam, cross_entropy and a shrinking learning rate."""
    ck = tmp_path_factory.mktemp("trained") / "ck"
    train_tiny(data_bin, ck, "--max-epoch", "3", *PLATEAU)
    return ck


def _copy(trained, tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir(parents=True)
    (ck / "checkpoint_last.pt").write_bytes((trained / "checkpoint_last.pt").read_bytes())
    return ck


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--optimizer", "sgd"],
            "was trained with --optimizer adam, not sgd: its state does not apply here; add "
            "--reset-optimizer to start the optimizer afresh (the model weights are still loaded)",
        ),
        (
            ["--criterion", "label_smoothed_cross_entropy"],
            "was trained with --criterion cross_entropy, not label_smoothed_cross_entropy: its "
            "state does not apply here; add --reset-optimizer to start the optimizer afresh (the "
            "model weights are still loaded)",
        ),
        (
            ["--lr-scheduler", "inverse_sqrt"],
            "was trained with --lr-scheduler reduce_lr_on_plateau, not inverse_sqrt: its state "
            "does not apply here; add --reset-lr-scheduler to start it afresh (the model weights "
            "are still loaded)",
        ),
    ],
)
def test_another_component_is_refused_until_its_state_is_reset(
    data_bin, trained, tmp_path, flags, message
):
    ck = _copy(trained, tmp_path)
    before = (ck / "checkpoint_last.pt").read_bytes()
    result = _run(
        data_bin,
        ck,
        "--max-epoch",
        "4",
        *(PLATEAU if "--lr-scheduler" not in flags else []),
        *flags,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: {ck / 'checkpoint_last.pt'} {message}"
    )
    assert "Traceback" not in result.stderr
    assert (ck / "checkpoint_last.pt").read_bytes() == before
    reset = "--reset-lr-scheduler" if "--lr-scheduler" in flags else "--reset-optimizer"
    train_tiny(data_bin, ck, "--max-epoch", "4", *flags, reset)


def test_resuming_continues_the_updates_schedule_and_best_score(data_bin, trained, tmp_path):
    ck = _copy(trained, tmp_path)
    result = train_tiny(data_bin, ck, "--max-epoch", "4", *PLATEAU)
    inner = json_records(result, "train_inner")
    assert inner[0]["num_updates"] == 22 and inner[0]["epoch"] == 4
    assert inner[0]["lr"] == pytest.approx(0.003 / 4)  # halved after validations 2 and 3
    saved = load_checkpoint_file(trained / "checkpoint_last.pt")["extra_state"]["best"]
    valid = json_records(result, "valid")[0]
    assert valid["best_loss"] == min(saved, valid["loss"])
    assert "(epoch 3, update 21)" in result.stderr


def test_reset_optimizer_starts_the_updates_and_schedule_from_zero(data_bin, trained, tmp_path):
    """fairseq's rule: a fresh optimizer also restarts the update count (so --max-update and
    warm-up count afresh) and the learning-rate schedule; the data position is kept."""
    ck = _copy(trained, tmp_path)
    result = train_tiny(data_bin, ck, "--max-epoch", "4", *PLATEAU, "--reset-optimizer")
    inner = json_records(result, "train_inner")
    assert inner[0]["num_updates"] == 1 and inner[0]["epoch"] == 4
    assert inner[0]["lr"] == 0.003
    assert "(epoch 3, update 0; reset: optimizer, lr scheduler)" in result.stderr
    state = load_checkpoint_file(ck / "checkpoint_last.pt")
    assert state["num_updates"] == 7
    assert state["optimizer"]["state"][0]["step"].item() == 7  # Adam's moments began afresh


def test_reset_lr_scheduler_keeps_the_updates_and_restarts_the_schedule(
    data_bin, trained, tmp_path
):
    ck = _copy(trained, tmp_path)
    result = train_tiny(data_bin, ck, "--max-epoch", "4", *PLATEAU, "--reset-lr-scheduler")
    inner = json_records(result, "train_inner")
    assert inner[0]["num_updates"] == 22
    assert inner[0]["lr"] == 0.003
    state = load_checkpoint_file(ck / "checkpoint_last.pt")
    assert state["optimizer"]["state"][0]["step"].item() == 28  # Adam's moments went on


def test_reset_dataloader_starts_again_at_epoch_one(data_bin, trained, tmp_path):
    ck = _copy(trained, tmp_path)
    result = train_tiny(data_bin, ck, "--max-epoch", "1", *PLATEAU, "--reset-dataloader")
    inner = json_records(result, "train_inner")
    assert [r["epoch"] for r in inner] == [1] * 7
    assert inner[0]["num_updates"] == 22
    assert "reset: data position)" in result.stderr


def test_reset_meters_forgets_the_best_score_and_the_clock(data_bin, trained, tmp_path):
    def with_long_clock(folder):
        ck = _copy(trained, folder)
        state = load_checkpoint_file(ck / "checkpoint_last.pt")
        state["extra_state"]["wall"] = 1000.0  # seconds the run had been going
        torch.save(state, ck / "checkpoint_last.pt")
        return ck

    reset = train_tiny(data_bin, with_long_clock(tmp_path / "a"), "--max-epoch", "4", *PLATEAU,
                   "--reset-meters")  # fmt: skip
    valid = json_records(reset, "valid")[0]
    assert valid["best_loss"] == valid["loss"]
    assert json_records(reset, "train_inner")[0]["wall"] < 1000
    kept = train_tiny(data_bin, with_long_clock(tmp_path / "b"), "--max-epoch", "4", *PLATEAU)
    assert json_records(kept, "train_inner")[0]["wall"] > 1000


def test_finetune_from_model_starts_from_its_weights_only(data_bin, trained, tmp_path):
    source = trained / "checkpoint_last.pt"
    ck = tmp_path / "ck"
    # a learning rate too small to move the weights: the first validation shows the source's
    result = train_tiny(
        data_bin, ck, "--finetune-from-model", str(source), "--max-update", "1", "--lr", "1e-12"
    )
    assert f"fine-tuning from {source}" in result.stderr
    assert json_records(result, "train_inner")[0]["num_updates"] == 1
    assert json_records(result, "train_inner")[0]["epoch"] == 1
    source_model = load_checkpoint_file(source)["model"]
    tuned_model = load_checkpoint_file(ck / "checkpoint_last.pt")["model"]
    for name, value in source_model.items():
        torch.testing.assert_close(tuned_model[name], value, rtol=0, atol=1e-9)
    fresh = train_tiny(data_bin, tmp_path / "fresh", "--max-update", "1", "--lr", "1e-12")
    assert json_records(fresh, "valid")[0]["loss"] > json_records(result, "valid")[0]["loss"] + 0.1
    # launched again, it resumes its own run instead of starting over
    again = train_tiny(data_bin, ck, "--finetune-from-model", str(source), "--max-update", "2")
    assert f"resumed from {ck / 'checkpoint_last.pt'}" in again.stderr


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--reset-optimizer", "--reset-meters"],
            "--finetune-from-model resets everything but the model weights already; drop "
            "--reset-optimizer, --reset-meters",
        ),
        (
            ["--restore-file", "checkpoint1.pt"],
            "--finetune-from-model and --restore-file checkpoint1.pt exclude each other: the first "
            "starts from a model's weights, the second resumes a run",
        ),
    ],
)
def test_finetune_from_model_conflicts(data_bin, trained, tmp_path, flags, message):
    source = trained / "checkpoint_last.pt"
    result = _run(data_bin, tmp_path / "ck", "--finetune-from-model", str(source), *flags)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"seqcore: error: {message}"


def test_finetune_from_a_missing_model(data_bin, tmp_path):
    missing = tmp_path / "nope.pt"
    result = _run(data_bin, tmp_path / "ck", "--finetune-from-model", str(missing))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: --finetune-from-model {missing}: no such file"
    )
    assert not (tmp_path / "ck" / "checkpoint_last.pt").exists()
