"""`seqcore train` on a GPU: the device it picks, mixed precision, resume, torchrun. Skipped
where torch sees no CUDA device (the CPU runs of the same behaviour are in test_train.py and
test_distributed.py)."""

import os
import subprocess
import sys

import pytest
import torch
from support import TINY_TRANSFORMER as TINY
from support import json_records, train_tiny

from seqcore.checkpoint_utils import load_checkpoint_file

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_trains_on_cuda_when_present_and_resumes_there(data_bin, tmp_path):
    first = train_tiny(data_bin, tmp_path / "ck", "--max-update", "3")
    assert "device cuda" in first.stderr
    # written from the GPU, loaded onto the CPU (torch.load(weights_only=True))
    state = load_checkpoint_file(tmp_path / "ck" / "checkpoint_last.pt")
    assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())
    resumed = train_tiny(data_bin, tmp_path / "ck", "--max-update", "5")
    updates = [r["num_updates"] for r in json_records(resumed, "train_inner")]
    assert updates == [4, 5]


def test_device_cpu_trains_on_the_cpu_beside_a_gpu(data_bin, tmp_path):
    result = train_tiny(data_bin, tmp_path / "ck", "--device", "cpu", "--max-update", "2")
    assert "device cpu" in result.stderr


@pytest.mark.parametrize("flag", ["--bf16", "--fp16", "--amp"])
def test_mixed_precision_trains_on_cuda(data_bin, tmp_path, flag):
    result = train_tiny(data_bin, tmp_path / "ck", flag, "--max-update", "4", "--no-save")
    inner = json_records(result, "train_inner")
    assert [r["num_updates"] for r in inner] == [1, 2, 3, 4]
    # --amp on CUDA is float16 with loss scaling, as --fp16
    assert ("loss_scale" in inner[-1]) == (flag in ("--fp16", "--amp"))
    assert all(r["loss"] == r["loss"] for r in inner)  # finite, not NaN


def test_torchrun_with_one_process_trains_on_the_gpu(data_bin, tmp_path):
    # a world of one: NCCL between ranks needs a GPU for each (several ranks on one GPU are
    # refused with a clear message; tests/core/training/test_distributed.py)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    result = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
            "1", "-m", "seqcore", "train", str(data_bin), *TINY, "--max-update", "3",
            "--save-dir", str(tmp_path / "ck"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "device cuda" in result.stderr
    assert json_records(result, "train_inner")[-1]["num_updates"] == 3
    assert (tmp_path / "ck" / "checkpoint_last.pt").exists()
