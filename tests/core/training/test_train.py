"""`seqcore train` end to end: logging, checkpoints, hooks, exact resume, faults."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch
from support import TINY_TRANSFORMER as TINY
from support import json_records, restore_ctrl_c, run_cli, run_seqcore, train_tiny

from seqcore.checkpoint_utils import load_checkpoint_file


def test_trains_logs_json_and_writes_fairseq_checkpoint_names(data_bin, tmp_path):
    result = train_tiny(data_bin, tmp_path / "ck", "--max-epoch", "3")
    records = json_records(result)
    inner = [r for r in records if r["kind"] == "train_inner"]
    valid = [r for r in records if r["kind"] == "valid"]
    assert [r["num_updates"] for r in inner] == list(range(1, len(inner) + 1))
    for key in ["loss", "nll_loss", "ppl", "wps", "ups", "wpb", "bsz", "lr", "gnorm", "wall"]:
        assert key in inner[0]
    assert [v["epoch"] for v in valid] == [1, 2, 3]
    assert valid[-1]["loss"] < valid[0]["loss"]
    assert valid[-1]["best_loss"] == min(v["loss"] for v in valid)
    names = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert names == [
        "checkpoint1.pt",
        "checkpoint2.pt",
        "checkpoint3.pt",
        "checkpoint_best.pt",
        "checkpoint_last.pt",
    ]
    state = load_checkpoint_file(tmp_path / "ck" / "checkpoint_last.pt")
    assert state["cfg"]["selections"]["arch"] == "transformer"
    assert state["cfg"]["configs"]["model"]["encoder_embed_dim"] == 16
    assert state["cfg"]["origins"]["model"]["name"] == "seqcore-plugin-transformer"
    assert state["extra_state"]["epoch"] == 3
    assert "checkpoints in" in result.stderr


def test_validation_reports_throughput_and_the_best_last(data_bin, tmp_path):
    from seqcore.data.indexed_dataset import MMapIndexedDataset

    targets = MMapIndexedDataset(str(data_bin / "valid.src-tgt.tgt"))
    one_batch = ["--max-epoch", "1", "--max-tokens-valid", "4096", "--batch-size-valid", "64"]
    (valid,) = json_records(train_tiny(data_bin, tmp_path / "ck", *one_batch), "valid")
    assert valid["wpb"] == int(targets.sizes.sum())  # fairseq: tokens and sentences per batch
    assert valid["bsz"] == len(targets)
    assert valid["wps"] > 0
    simple = train_tiny(data_bin, tmp_path / "ck2", *one_batch, "--log-format", "simple")
    (line,) = [ln for ln in simple.stdout.splitlines() if ln.startswith("valid |")]
    fields = [f.split()[0] for f in line.split(" | ")[3:]]
    assert fields == ["loss", "nll_loss", "ppl", "wps", "wpb", "bsz", "best_loss"]


def test_hooks_fire_in_the_documented_order(data_bin, tmp_path):
    log = tmp_path / "hooks.jsonl"
    result = train_tiny(
        data_bin,
        tmp_path / "ck",
        "--max-epoch",
        "2",
        "--no-epoch-checkpoints",
        env={"SEQCORE_TOY_HOOK_LOG": str(log)},
    )
    records = json_records(result)
    ends = [r["num_updates"] for r in records if r["kind"] == "train"]
    losses = [r["loss"] for r in records if r["kind"] == "valid"]
    expected = [{"hook": "train_begin"}]
    done = 0
    for epoch, (end, loss) in enumerate(zip(ends, losses), start=1):
        expected.append({"hook": "epoch_begin", "epoch": epoch})
        expected += [{"hook": "update_end", "num_updates": n} for n in range(done + 1, end + 1)]
        expected.append({"hook": "validation_end", "epoch": epoch, "num_updates": end})
        if epoch == 1 or loss < min(losses[: epoch - 1]):
            expected.append({"hook": "checkpoint_saved", "path": "checkpoint_best.pt"})
        expected.append({"hook": "checkpoint_saved", "path": "checkpoint_last.pt"})
        done = end
    expected.append({"hook": "train_end"})
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events == expected


def _params(path):
    return load_checkpoint_file(path)["model"]


@pytest.mark.parametrize("kill_after", [3, 8], ids=["mid-epoch", "epoch-boundary"])
def test_sigkill_and_resume_is_bitwise_identical_to_an_uninterrupted_run(
    data_bin, tmp_path, kill_after
):
    common = ["--max-update", "10", "--save-interval-updates", "1", "--no-epoch-checkpoints"]
    train_tiny(data_bin, tmp_path / "straight", *common)
    # a process: it is killed by a signal (the toy plug-in's hook sends it SIGKILL)
    killed = run_seqcore(
        "train",
        str(data_bin),
        *TINY,
        "--save-dir",
        str(tmp_path / "resumed"),
        *common,
        env={"SEQCORE_TOY_SIGKILL_AFTER_UPDATE": str(kill_after)},
    )
    assert killed.returncode == -signal.SIGKILL
    partial = load_checkpoint_file(tmp_path / "resumed" / "checkpoint_last.pt")
    assert partial["num_updates"] == kill_after
    resumed = train_tiny(data_bin, tmp_path / "resumed", *common)
    assert f"resumed from {tmp_path / 'resumed' / 'checkpoint_last.pt'}" in resumed.stderr
    a = _params(tmp_path / "straight" / "checkpoint_last.pt")
    b = _params(tmp_path / "resumed" / "checkpoint_last.pt")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_checkpoint_holding_a_pickled_object_is_refused_without_running_it(data_bin, tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    torch.save({"model": {}, "seqcore": {}, "payload": _Payload(str(marker))}, evil)
    result = run_cli(
        "train",
        str(data_bin),
        *TINY,
        "--save-dir",
        str(tmp_path / "ck"),
        "--restore-file",
        str(evil),
        "--max-update",
        "1",
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        f"seqcore: error: checkpoint {evil} holds code (io.open) that would run when loaded; "
        "it was not loaded"
    )
    assert "weights_only" not in result.stderr
    assert not marker.exists()


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_corrupt_last_checkpoint_is_reported_and_another_can_be_restored(data_bin, tmp_path):
    ck = tmp_path / "ck"
    train_tiny(data_bin, ck, "--max-epoch", "1")
    last = ck / "checkpoint_last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    result = run_cli("train", str(data_bin), *TINY, "--save-dir", str(ck), "--max-epoch", "2")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: checkpoint {last} is corrupt or truncated (RuntimeError); "
        "use --restore-file to resume from another checkpoint"
    )
    ok = train_tiny(data_bin, ck, "--max-epoch", "2", "--restore-file", "checkpoint1.pt")
    assert "resumed from" in ok.stderr and "checkpoint1.pt" in ok.stderr


def test_save_dir_that_cannot_be_created_fails_before_training(data_bin, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli(
        "train", str(data_bin), *TINY, "--save-dir", str(blocker / "ck"), "--max-update", "1"
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"seqcore: error: --save-dir {blocker / 'ck'}: cannot create it"
    )


def test_non_finite_loss_skips_updates_then_aborts_with_a_clear_message(data_bin, tmp_path):
    args = [
        "train",
        str(data_bin),
        *TINY,
        "--criterion",
        "toy_mse",
        "--save-dir",
        str(tmp_path / "ck"),
        "--max-update",
        "20",
        "--max-nonfinite-updates",
        "3",
    ]
    result = run_cli(*args, env={"SEQCORE_TOY_NAN_LOSS": "1"})
    assert result.returncode == 1
    assert (
        "seqcore: error: gradients were not finite in 3 updates in a row (at update 1"
        in result.stderr
    )
    assert not (tmp_path / "ck" / "checkpoint_last.pt").exists()


def test_what_a_run_needs_is_asked_for_in_command_line_order(data_bin, tmp_path):
    steps = [
        ((), "give DATA, the data-bin folder to train on: seqcore train DATA -a ARCH "
         "--optimizer NAME --max-tokens N ... (see 'seqcore train --help')"),
        ((str(data_bin),), "--arch is required (see 'seqcore train --help')"),
        ((str(data_bin), "-a", "transformer"),
         "--optimizer is required (see 'seqcore train --help')"),
        ((str(data_bin), "-a", "transformer", "--optimizer", "adam"),
         "give --max-tokens or --batch-size (or both)"),
    ]  # fmt: skip
    for args, message in steps:
        result = run_cli("train", *args, "--save-dir", str(tmp_path / "ck"))
        assert result.returncode == 1
        assert result.stderr == f"seqcore: error: {message}\n"
    assert not (tmp_path / "ck").exists()


def test_flag_errors_are_one_line(data_bin, tmp_path):
    result = run_cli("train", str(data_bin), *TINY, "--max-epochs", "1")
    assert result.returncode == 2 and "No such option '--max-epochs'" in result.stderr
    assert "--max-epoch" in result.stderr and result.stderr.count("\n") == 1
    result = run_cli("train", str(data_bin), *TINY, "--max-epoch", "two")
    assert result.returncode == 2 and "'--max-epoch'" in result.stderr
    result = run_cli("train", str(data_bin), *TINY, "--encoder-embed-dim", "15")
    assert result.returncode == 1 and "--encoder-embed-dim" in result.stderr
    result = run_cli("train", str(data_bin), "-a", "transformer", "--max-tokens", "64")
    assert result.returncode == 1 and result.stderr.splitlines()[-1] == (
        "seqcore: error: --optimizer is required (see 'seqcore train --help')"
    )


def test_ctrl_c_stops_cleanly_without_half_written_files(data_bin, tmp_path):
    ck = tmp_path / "ck"
    # a process: it is sent SIGINT
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seqcore",
            "train",
            str(data_bin),
            *TINY,
            "--save-dir",
            str(ck),
            "--max-update",
            "100000",
            "--save-interval-updates",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")},
        preexec_fn=restore_ctrl_c,
    )
    import time

    deadline = time.time() + 60
    while not (ck / "checkpoint_last.pt").exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert err.rstrip().endswith("seqcore: interrupted")
    assert not [p for p in ck.iterdir() if p.name.startswith(".")]
    load_checkpoint_file(ck / "checkpoint_last.pt")


def test_patience_stops_after_validations_without_improvement(data_bin, tmp_path):
    # with a learning rate of 0 the validation loss never improves after the first epoch
    result = train_tiny(
        data_bin,
        tmp_path / "ck",
        "--optimizer",
        "sgd",
        "--lr",
        "0",
        "--max-epoch",
        "5",
        "--patience",
        "2",
        "--no-save",
    )
    valid = [r for r in json_records(result) if r["kind"] == "valid"]
    assert [v["epoch"] for v in valid] == [1, 2, 3]
    assert "no improvement in 2 validations (--patience)" in result.stderr


def test_update_freq_list_applies_per_epoch(data_bin, tmp_path):
    result = train_tiny(
        data_bin, tmp_path / "ck", "--update-freq", "1,2", "--max-epoch", "3", "--no-save"
    )
    ends = [r["num_updates"] for r in json_records(result) if r["kind"] == "train"]
    batches = ends[0]
    per_epoch = [ends[0], ends[1] - ends[0], ends[2] - ends[1]]
    assert per_epoch == [batches, -(-batches // 2), -(-batches // 2)]


@pytest.mark.parametrize("flag", ["--bf16", "--fp16", "--amp"])
def test_mixed_precision_trains_on_cpu(data_bin, tmp_path, flag):
    result = train_tiny(data_bin, tmp_path / "ck", flag, "--max-update", "3", "--no-save")
    inner = [r for r in json_records(result) if r["kind"] == "train_inner"]
    assert inner[-1]["num_updates"] == 3
    assert ("loss_scale" in inner[-1]) == (flag == "--fp16")


@pytest.mark.parametrize("threshold", [None, 8])
def test_fp16_loss_scale_doubles_after_each_window_up_to_the_threshold(
    data_bin, tmp_path, threshold
):
    scaling = ["--fp16", "--fp16-init-scale", "4", "--fp16-scale-window", "2"]
    if threshold:
        scaling += ["--threshold-loss-scale", str(threshold)]
    result = train_tiny(data_bin, tmp_path / "ck", *scaling, "--max-update", "7", "--no-save")
    scales = [r["loss_scale"] for r in json_records(result, "train_inner")]
    # fairseq's DynamicLossScaler: x2 after every 2 updates without overflow, from 4
    expected = [4 * 2 ** (k // 2) for k in range(1, 8)]
    assert scales == [min(e, threshold or e) for e in expected]


def test_fp16_scale_window_defaults_to_fairseqs_rule(data_bin, tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os, seqcore\n"
        "@seqcore.hookimpl\n"
        "def seqcore_train_begin(trainer):\n"
        "    with open(os.environ['PROBE'], 'w') as f:\n"
        "        f.write(str(trainer.grad_scaler.get_growth_interval()))\n"
    )
    for flags, window in [
        ([], 2**14),
        (["--update-freq", "4,1"], 2**12),
        (["--fp16-scale-window", "7"], 7),
    ]:
        out = tmp_path / "window.txt"
        train_tiny(
            data_bin, tmp_path / "ck", "--fp16", "--max-update", "1", "--no-save",
            "--user-dir", str(probe), *flags, env={"PROBE": str(out)},
        )  # fmt: skip
        assert int(out.read_text()) == window


def test_fp16_overflows_down_to_the_min_loss_scale_stop_training(data_bin, tmp_path):
    args = [
        "train", str(data_bin), *TINY, "--criterion", "toy_mse", "--save-dir", str(tmp_path / "ck"),
        "--max-update", "20", "--fp16", "--fp16-init-scale", "1", "--min-loss-scale", "0.25",
    ]  # fmt: skip
    result = run_cli(*args, env={"SEQCORE_TOY_NAN_LOSS": "1"})
    assert result.returncode == 1
    # 1 -> 0.5 at the first overflow, 0.25 at the second: at --min-loss-scale, fairseq stops
    assert result.stderr.splitlines()[-1] == (
        "seqcore: error: the loss scale fell to 0.25 at update 1 (--min-loss-scale 0.25): the "
        "loss is probably exploding; lower --lr, set --clip-norm or raise the batch size"
    )
    assert not (tmp_path / "ck" / "checkpoint_last.pt").exists()


def test_log_file_gets_every_report_and_message(data_bin, tmp_path):
    log = tmp_path / "train.log"
    first = train_tiny(data_bin, tmp_path / "ck", "--max-epoch", "2", "--log-file", str(log))
    lines = log.read_text().splitlines()
    assert [ln for ln in lines if ln.startswith("{")] == first.stdout.splitlines()
    assert [ln for ln in lines if not ln.startswith("{")] == first.stderr.splitlines()
    assert any("saved checkpoint" in ln for ln in lines) and "done training" in lines[-1]
    # appended to, as fairseq's: a resumed run goes on in the same file
    again = train_tiny(data_bin, tmp_path / "ck", "--max-epoch", "3", "--log-file", str(log))
    more = log.read_text().splitlines()
    assert more[: len(lines)] == lines
    added = more[len(lines) :]
    assert [ln for ln in added if ln.startswith("{")] == again.stdout.splitlines()
    assert [ln for ln in added if not ln.startswith("{")] == again.stderr.splitlines()
    assert any(ln.startswith("resumed from") for ln in added)


def test_log_file_that_cannot_be_opened_is_a_one_line_error(data_bin, tmp_path):
    log = tmp_path / "missing" / "train.log"
    result = run_cli(
        "train", str(data_bin), *TINY, "--save-dir", str(tmp_path / "ck"), "--log-file", str(log)
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: --log-file {log}: cannot open it (No such file or directory)"
    )


def test_tensorboard_logdir_holds_fairseqs_runs_and_the_logged_figures(data_bin, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tb = tmp_path / "tb"
    result = train_tiny(
        data_bin, tmp_path / "ck", "--max-epoch", "2", "--log-interval", "2", "--no-save",
        "--tensorboard-logdir", str(tb),
    )  # fmt: skip
    assert sorted(p.name for p in tb.iterdir()) == ["train", "train_inner", "valid"]
    for kind in ("train_inner", "train", "valid"):
        events = EventAccumulator(str(tb / kind))
        events.Reload()
        records = json_records(result, kind)
        metrics = ["loss", "nll_loss", "ppl", "wps", "wpb", "bsz"]
        metrics += ["lr", "gnorm"] if kind != "valid" else ["best_loss"]
        for metric in metrics:
            logged = [(e.step, e.value) for e in events.Scalars(metric)]
            assert logged == [
                (r["num_updates"], pytest.approx(r[metric], rel=1e-6)) for r in records
            ], (kind, metric)


def test_tensorboard_logdir_without_tensorboard_is_a_one_line_error(data_bin, tmp_path):
    blocker = tmp_path / "blocker" / "tensorboard"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('not installed')\n")
    # a process: tensorboard is hidden by PYTHONPATH, read when the process starts
    result = run_seqcore(
        "train", str(data_bin), *TINY, "--save-dir", str(tmp_path / "ck"), "--max-update", "2",
        "--tensorboard-logdir", str(tmp_path / "tb"),
        env={"PYTHONPATH": str(tmp_path / "blocker")},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "seqcore: error: --tensorboard-logdir needs the tensorboard package: "
        "pip install tensorboard"
    )
    assert not (tmp_path / "tb").exists()


def test_fp16_bf16_amp_exclude_each_other(data_bin, tmp_path):
    result = run_cli("train", str(data_bin), *TINY, "--fp16", "--bf16")
    assert result.returncode == 1
    assert "--fp16, --bf16 and --amp exclude each other" in result.stderr


COMPILER_PROBE = """
import json
import os
import sys

import seqcore


@seqcore.hookimpl
def seqcore_train_end(trainer):
    with open(os.environ["PROBE_OUT"], "w") as f:
        json.dump({"dynamo": "torch._dynamo" in sys.modules}, f)
"""


@pytest.mark.parametrize("optimizer", [["--optimizer", "adam"], ["--optimizer", "sgd"]])
def test_training_without_compile_never_loads_the_compiler(data_bin, tmp_path, optimizer):
    """torch.optim's optimizers import torch._dynamo on first use (0.9 s, 70 MiB resident in
    every process); seqcore's optimizers, with the checkpoint written and read back, do not."""
    # processes: what a fresh interpreter imports is what is tested
    probe = tmp_path / "probe.py"
    probe.write_text(COMPILER_PROBE)
    out = tmp_path / "seen.json"
    args = ["--max-update", "2", "--user-dir", str(probe), *optimizer]
    for steps in (args, [*args[:1], "3", *args[2:]]):
        result = run_seqcore(
            "train", str(data_bin), *TINY, "--save-dir", str(tmp_path / "ck"), *steps,
            env={"PROBE_OUT": str(out)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(out.read_text()) == {"dynamo": False}


@pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None, reason="no C++ compiler")
def test_compile_trains_without_dynamo_warnings(data_bin, tmp_path):
    # a process: torch's loggers write to the stderr the process started with, and compiling
    # leaves dynamo's caches in the process
    result = run_seqcore(
        "train", str(data_bin), *TINY, "--save-dir", str(tmp_path / "ck"), "--max-update", "1",
        "--disable-validation", "--compile", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "torch._dynamo" not in result.stderr and "recompile" not in result.stderr
    state = load_checkpoint_file(tmp_path / "ck" / "checkpoint_last.pt")
    assert state["num_updates"] == 1
    assert not any(name.startswith("_orig_mod") for name in state["model"])


def test_compile_without_a_cxx_compiler_is_one_line(data_bin, tmp_path):
    missing = str(tmp_path / "no-such-g++")
    result = run_cli(
        "train", str(data_bin), *TINY, "--save-dir", str(tmp_path / "ck"), "--compile",
        env={"CXX": missing},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: --compile on the CPU needs a C++ compiler and {missing!r} was not "
        "found; install g++ or set CXX"
    )
