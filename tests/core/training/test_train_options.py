"""Training options checked against what they mean: --clip-norm and --sentence-avg by the size of
one plain SGD update (a formula of the logged figures), --seed by repeating a run, and when
--validate-interval(-updates) and --save-interval(-updates) validate and save (fairseq's rule)."""

import json

import pytest
import torch
from support import json_records, train_tiny

from seqcore.checkpoint_utils import load_checkpoint_file

# records the parameters before the first update and after it
PROBE = """
import os

import torch

import seqcore


def _params(trainer):
    return {n: p.detach().clone() for n, p in trainer.model.named_parameters()}


@seqcore.hookimpl
def seqcore_train_begin(trainer):
    torch.save(_params(trainer), os.path.join(os.environ["PROBE_DIR"], "before.pt"))


@seqcore.hookimpl
def seqcore_update_end(trainer, num_updates, log):
    if num_updates == 1:
        torch.save(_params(trainer), os.path.join(os.environ["PROBE_DIR"], "after.pt"))
"""
ONE_SGD_UPDATE = ["--optimizer", "sgd", "--lr", "1.0", "--max-update", "1", "--dropout", "0"]


def _one_update(data_bin, tmp_path, name, *extra):
    """The first update's logged figures and the L2 norm of the change it made."""
    folder = tmp_path / name
    folder.mkdir()
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    result = train_tiny(
        data_bin,
        folder / "ck",
        *ONE_SGD_UPDATE,
        "--user-dir",
        str(probe),
        *extra,
        env={"PROBE_DIR": str(folder)},
    )
    before = torch.load(folder / "before.pt", weights_only=True)
    after = torch.load(folder / "after.pt", weights_only=True)
    change = torch.cat([(after[n] - before[n]).flatten().double() for n in before])
    return json_records(result, "train_inner")[0], change


def test_clip_norm_limits_the_update_to_the_given_norm(data_bin, tmp_path):
    log, change = _one_update(data_bin, tmp_path, "free")
    # plain SGD with lr 1: the change is the gradient, whose norm is the logged gnorm
    assert change.norm().item() == pytest.approx(log["gnorm"], rel=1e-4)
    clip = log["gnorm"] / 4
    clipped_log, clipped = _one_update(data_bin, tmp_path, "clipped", "--clip-norm", str(clip))
    assert clipped_log["gnorm"] == pytest.approx(log["gnorm"], rel=1e-6)  # before clipping
    assert clipped.norm().item() == pytest.approx(clip, rel=1e-4)
    torch.testing.assert_close(clipped, change * (clip / change.norm()), rtol=1e-3, atol=1e-7)


def test_sentence_avg_normalises_by_sentences_instead_of_tokens(data_bin, tmp_path):
    tokens_log, by_tokens = _one_update(data_bin, tmp_path, "tokens")
    sentences_log, by_sentences = _one_update(data_bin, tmp_path, "sentences", "--sentence-avg")
    assert sentences_log["bsz"] == tokens_log["bsz"]  # the same batch
    ratio = tokens_log["wpb"] / tokens_log["bsz"]  # target tokens per sentence
    torch.testing.assert_close(by_sentences, by_tokens * ratio, rtol=1e-4, atol=1e-7)


def _final_weights(data_bin, save_dir, *extra):
    train_tiny(data_bin, save_dir, "--max-update", "5", *extra)
    return load_checkpoint_file(save_dir / "checkpoint_last.pt")["model"]


def test_the_seed_decides_the_run(data_bin, tmp_path):
    first = _final_weights(data_bin, tmp_path / "a", "--seed", "7")
    again = _final_weights(data_bin, tmp_path / "b", "--seed", "7")
    other = _final_weights(data_bin, tmp_path / "c", "--seed", "8")
    for name, value in first.items():
        assert torch.equal(value, again[name]), name
    assert any(not torch.equal(value, other[name]) for name, value in first.items())


@pytest.mark.parametrize(
    "flags, validated, saved",
    [
        # 7 updates an epoch; (epoch, update) of each validation, and the checkpoint each
        # save writes first (it then copies it to checkpoint_last.pt and the best ones)
        (
            ["--max-epoch", "4", "--validate-interval", "2"],
            [(2, 14), (4, 28)],
            ["checkpoint1.pt", "checkpoint2.pt", "checkpoint3.pt", "checkpoint4.pt"],
        ),
        (
            ["--max-epoch", "2", "--validate-interval-updates", "5"],
            [(1, 5), (1, 7), (2, 10), (2, 14)],
            ["checkpoint1.pt", "checkpoint2.pt"],
        ),
        # an update interval that ends an epoch validates and saves once
        (
            ["--max-epoch", "2", "--validate-interval-updates", "7"],
            [(1, 7), (2, 14)],
            ["checkpoint1.pt", "checkpoint2.pt"],
        ),
        (
            ["--max-epoch", "2", "--save-interval-updates", "7"],
            [(1, 7), (2, 14)],
            ["checkpoint1.pt", "checkpoint2.pt"],
        ),
        # a save in mid-epoch validates first, so checkpoint_best can follow it
        (
            ["--max-epoch", "2", "--save-interval-updates", "5"],
            [(1, 5), (1, 7), (2, 10), (2, 14)],
            ["checkpoint_1_5.pt", "checkpoint1.pt", "checkpoint_2_10.pt", "checkpoint2.pt"],
        ),
        # epochs off the interval are not validated, but the update interval still is
        (
            ["--max-epoch", "2", "--validate-interval", "3", "--validate-interval-updates", "5"],
            [(1, 5), (2, 10)],
            ["checkpoint1.pt", "checkpoint2.pt"],
        ),
        # reaching --max-update always validates and saves
        (
            ["--max-update", "10", "--validate-interval", "3"],
            [(2, 10)],
            ["checkpoint1.pt", "checkpoint_best.pt"],
        ),
    ],
)
def test_when_validation_and_saving_run(data_bin, tmp_path, flags, validated, saved):
    result = train_tiny(data_bin, tmp_path / "ck", *flags)
    assert [(r["epoch"], r["num_updates"]) for r in json_records(result, "valid")] == validated
    prefix = f"saved checkpoint {tmp_path / 'ck'}/"
    lines = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert [line[len(prefix) :].split()[0] for line in lines] == saved


def test_fairseqs_minus_one_settings_are_accepted(data_bin, tmp_path):
    """-1 is fairseq's "off"/"all" for these flags; given explicitly it is a value (it was read
    as an unknown option "-1")."""
    ck = tmp_path / "ck"
    minus_one = [
        "--patience", "-1", "--keep-last-epochs", "-1", "--keep-interval-updates", "-1",
        "--keep-best-checkpoints", "-1", "--stop-min-lr", "-1",
    ]  # fmt: skip
    result = train_tiny(data_bin, ck, "--max-epoch", "3", *minus_one)
    assert len(json_records(result, "valid")) == 3
    assert sorted(p.name for p in ck.glob("checkpoint[0-9]*.pt")) == [
        "checkpoint1.pt",
        "checkpoint2.pt",
        "checkpoint3.pt",
    ]


VALID_PROBE = """
import json, os, seqcore

@seqcore.hookimpl
def seqcore_validation_end(trainer, epoch, num_updates, metrics):
    with open(os.environ["PROBE"], "a") as f:
        f.write(json.dumps(metrics) + "\\n")
"""


@pytest.mark.parametrize("steps, sentences", [(None, 16), (1, 4), (2, 8), (9, 16)])
def test_max_valid_steps_limits_the_validation_batches(data_bin, tmp_path, steps, sentences):
    probe, out = tmp_path / "probe.py", tmp_path / "valid.jsonl"
    probe.write_text(VALID_PROBE)
    four_a_batch = ["--batch-size-valid", "4", "--max-tokens-valid", "4096"]  # 16 valid pairs
    limit = ["--max-valid-steps", str(steps)] if steps else []
    train_tiny(
        data_bin, tmp_path / "ck", "--max-epoch", "1", "--no-save", "--user-dir", str(probe),
        *four_a_batch, *limit, env={"PROBE": str(out)},
    )  # fmt: skip
    (metrics,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert metrics["nsentences"] == sentences


def test_stop_time_hours_stops_after_the_update_that_passes_it(data_bin, tmp_path):
    hooks = tmp_path / "hooks.jsonl"
    result = train_tiny(
        data_bin, tmp_path / "ck", "--max-epoch", "5", "--stop-time-hours", "1e-9",
        env={"SEQCORE_TOY_HOOK_LOG": str(hooks)},
    )  # fmt: skip
    assert json.loads(hooks.read_text().splitlines()[-1])["hook"] == "train_end"
    inner = json_records(result, "train_inner")
    assert [r["num_updates"] for r in inner] == [1]
    # fairseq: a run that stops validates and saves first
    assert [r["num_updates"] for r in json_records(result, "valid")] == [1]
    assert "--stop-time-hours 1e-09 reached" in result.stderr
    state = load_checkpoint_file(tmp_path / "ck" / "checkpoint_last.pt")
    assert state["num_updates"] == 1


def test_no_last_checkpoints_writes_no_checkpoint_last(data_bin, tmp_path):
    ck = tmp_path / "ck"
    train_tiny(data_bin, ck, "--max-epoch", "2", "--no-last-checkpoints")
    assert sorted(p.name for p in ck.iterdir()) == [
        "checkpoint1.pt",
        "checkpoint2.pt",
        "checkpoint_best.pt",
    ]
