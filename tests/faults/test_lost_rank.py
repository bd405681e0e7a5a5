"""Ranks started by hand (without torchrun, which would stop them all): when one is killed,
the other ends with one line naming the rank it lost, not a gloo traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from faults.conftest import TINY


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_rank_whose_peer_is_killed_says_which_rank_it_lost(data_bin, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    base.update(WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()),
                OMP_NUM_THREADS="1")  # fmt: skip
    argv = [sys.executable, "-m", "seqcore", "train", str(data_bin), *TINY, "--device", "cpu",
            "--save-dir", str(tmp_path / "ck"), "--max-update", "8",
            "--save-interval-updates", "1"]  # fmt: skip
    ranks = []
    for rank in (0, 1):
        env = {**base, "RANK": str(rank), "LOCAL_RANK": str(rank)}
        if rank == 0:  # the toy plug-in's hook: SIGKILL once update 2 is checkpointed
            env["SEQCORE_TOY_SIGKILL_AFTER_UPDATE"] = "2"
        ranks.append(subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))  # fmt: skip
    _, err = ranks[1].communicate(timeout=240)
    ranks[0].wait(timeout=60)
    assert ranks[0].returncode == -9
    assert ranks[1].returncode == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("seqcore: error: rank 1 of 2 lost rank 0 ("), err
    assert lines[-1].endswith(
        "it stopped or was killed, see its own output; start all ranks again to resume from "
        "the last checkpoint"
    )
    assert "Traceback" not in err
