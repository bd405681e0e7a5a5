"""Data-parallel training with torchrun on CPU (gloo): two ranks equal one process with
--update-freq 2 over the same global batches, and only rank 0 logs."""

import os
import subprocess
import sys

import pytest
import torch
from support import TINY_TRANSFORMER as TINY
from support import json_records, run_cli

# LayerDrop skips layers, so some parameters get no gradient: DDP must be told to look for them
LAYERDROP = ["--encoder-layerdrop", "0.5", "--decoder-layerdrop", "0.5"]


@pytest.mark.parametrize("extra", [[], LAYERDROP], ids=["plain", "layerdrop"])
def test_two_gloo_ranks_match_each_other_and_one_process_with_update_freq_2(
    data_bin, tmp_path, extra
):
    # SGD: Adam would turn the float noise of gradients that are zero in exact arithmetic (the
    # attention key bias) into full-size steps, which no summation order can reproduce
    common = [
        str(data_bin),
        *TINY,
        "--optimizer",
        "sgd",
        "--lr",
        "0.5",
        "--max-update",
        "4",
        "--no-save",
        "--device",
        "cpu",  # gloo on the CPU, also where a GPU is present
        *extra,
    ]
    ddp_dump, single_dump = tmp_path / "ddp", tmp_path / "single"
    ddp_dump.mkdir()
    single_dump.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "seqcore",
            "train",
            *common,
            "--save-dir",
            str(tmp_path / "ck1"),
            "--log-file",
            str(tmp_path / "train.log"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "SEQCORE_TOY_DUMP_PARAMS": str(ddp_dump), "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 process(es)" in result.stderr
    # rank 0 speaks for both: every record and message once
    records = json_records(result)
    assert [r["num_updates"] for r in records if r["kind"] == "train_inner"] == [1, 2, 3, 4]
    assert [r["kind"] for r in records if r["kind"] != "train_inner"] == ["train", "valid"]
    assert result.stderr.count("done training") == 1
    assert result.stderr.count("dictionary:") == 2  # source and target, once each
    logged = (tmp_path / "train.log").read_text()
    assert logged.count("done training") == 1 and logged.count('"kind": "valid"') == 1
    single = run_cli(
        "train",
        *common,
        "--update-freq",
        "2",
        "--save-dir",
        str(tmp_path / "ck2"),
        env={"SEQCORE_TOY_DUMP_PARAMS": str(single_dump)},
    )
    assert single.returncode == 0, single.stderr
    rank0 = torch.load(ddp_dump / "rank0.pt", weights_only=True)
    rank1 = torch.load(ddp_dump / "rank1.pt", weights_only=True)
    one = torch.load(single_dump / "rank0.pt", weights_only=True)
    for key in one:
        assert torch.equal(rank0[key], rank1[key]), key
        torch.testing.assert_close(rank0[key], one[key], rtol=1e-5, atol=1e-6, msg=key)
    # the updates really changed the parameters
    assert any(not torch.equal(one[k], v) for k, v in _initial(data_bin, tmp_path).items())


def _initial(data_bin, tmp_path):
    dump = tmp_path / "init"
    dump.mkdir()
    result = run_cli(
        "train",
        str(data_bin),
        *TINY,
        "--optimizer",
        "sgd",
        "--max-update",
        "0",
        "--no-save",
        "--save-dir",
        str(tmp_path / "ck0"),
        "--max-epoch",
        "1",
        env={"SEQCORE_TOY_DUMP_PARAMS": str(dump)},
    )
    assert result.returncode == 0, result.stderr
    return torch.load(dump / "rank0.pt", weights_only=True)


def _torchrun_environment(monkeypatch, local_rank: int, gpus: int) -> list:
    """torchrun's variables for a rank of a world of 2, a machine with ``gpus`` CUDA devices,
    and the calls the setup makes (recorded, not run: no process group is joined)."""
    from seqcore.training import distributed

    calls = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", str(local_rank))
    monkeypatch.setenv("LOCAL_RANK", str(local_rank))
    monkeypatch.setattr(distributed.torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(distributed.torch.cuda, "set_device", lambda i: calls.append(("gpu", i)))
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(
        distributed.dist, "init_process_group", lambda backend: calls.append(("group", backend))
    )
    return calls


def test_on_cuda_each_rank_takes_its_gpu_and_logs_go_through_gloo(monkeypatch):
    from seqcore.training.distributed import init_from_environment

    calls = _torchrun_environment(monkeypatch, local_rank=1, gpus=2)
    ctx = init_from_environment("cuda")
    assert (ctx.rank, ctx.world_size, ctx.local_rank) == (1, 2, 1)
    # NCCL refuses CPU tensors: the summed logging outputs go through gloo
    assert calls == [("gpu", 1), ("group", "cpu:gloo,cuda:nccl")]
    calls.clear()
    init_from_environment("cpu")
    assert calls == [("group", "gloo")]


def test_more_processes_than_gpus_on_a_machine_is_a_clear_error(monkeypatch):
    from seqcore.errors import ConfigError
    from seqcore.training.distributed import init_from_environment

    calls = _torchrun_environment(monkeypatch, local_rank=1, gpus=1)
    with pytest.raises(ConfigError) as error:
        init_from_environment("cuda")
    assert str(error.value) == (
        "torchrun started local rank 1, but this machine has 1 CUDA device(s): start at most 1 "
        "processes per machine (--nproc_per_node 1), or train on the CPU with --device cpu"
    )
    assert calls == []
