"""What the ``seqcore`` process sets up for itself before torch loads."""

import os
import platform
import subprocess
import sys

import pytest
from support import run_seqcore, write

from seqcore.cli import memory

SHOW_TUNABLES = """
import os
import sys

print("tunables:", os.environ.get("GLIBC_TUNABLES", "unset"), file=sys.stderr)
print("argv:", " ".join(sys.orig_argv[1:]), file=sys.stderr)
"""

glibc_only = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
    reason="the restart is for glibc's allocator",
)


def _seen(stderr: str, key: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith(key)).split(" ", 1)[1]


NO_CACHE = "glibc.malloc.tcache_count=0"
KEEP_HEAP = "glibc.malloc.trim_threshold=9223372036854775807"
MMAP_32M = "glibc.malloc.mmap_threshold=33554432"


@glibc_only
@pytest.mark.parametrize(
    ("given", "variables", "seen"),
    [
        (None, {}, f"{NO_CACHE}:{KEEP_HEAP}:{MMAP_32M}"),
        (
            "glibc.malloc.arena_max=2",
            {},
            f"glibc.malloc.arena_max=2:{NO_CACHE}:{KEEP_HEAP}:{MMAP_32M}",
        ),
        # the user's choices win: a tunable of their own, or the environment variable for it
        ("glibc.malloc.tcache_count=3", {}, f"glibc.malloc.tcache_count=3:{KEEP_HEAP}:{MMAP_32M}"),
        (None, {"MALLOC_MMAP_THRESHOLD_": "65536"}, f"{NO_CACHE}:{KEEP_HEAP}"),
        # every setting made already: the tunables as given
        (
            f"{MMAP_32M}:{NO_CACHE}:glibc.malloc.trim_threshold=1",
            {},
            f"{MMAP_32M}:{NO_CACHE}:glibc.malloc.trim_threshold=1",
        ),
    ],
)
def test_train_runs_in_a_process_restarted_with_glibcs_allocator_set_for_training(
    tmp_path, monkeypatch, given, variables, seen
):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    write(tmp_path / "mine.py", SHOW_TUNABLES)
    env = {**variables, **({} if given is None else {"GLIBC_TUNABLES": given})}
    result = run_seqcore("train", "--user-dir", str(tmp_path / "mine.py"), env=env)
    # the same command line ran again, once (the restarted process does not restart)
    assert result.stderr.count("tunables:") == 1, result.stderr
    assert _seen(result.stderr, "tunables:") == seen
    assert _seen(result.stderr, "argv:") == f"-m seqcore train --user-dir {tmp_path / 'mine.py'}"
    # and it is still the command that answers: here, that DATA is missing
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("seqcore: error: give DATA")


@glibc_only
def test_other_commands_keep_the_allocator_as_it_is(tmp_path, monkeypatch):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    write(tmp_path / "mine.py", SHOW_TUNABLES)
    result = run_seqcore("plugins", env={"SEQCORE_USER_DIR": str(tmp_path / "mine.py")})
    assert result.returncode == 0, result.stderr
    assert _seen(result.stderr, "tunables:") == "unset"


def test_no_restart_where_it_would_not_help_or_could_not_work(monkeypatch):
    restarts = []
    monkeypatch.setattr(os, "execv", lambda *args: restarts.append(args))
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/seqcore", "train", "DATA"])
    # torch is loaded (seqcore called from Python): the tunable could not apply any more
    monkeypatch.setitem(sys.modules, "torch", object())
    memory.restart_with_training_allocator(["train", "DATA"])
    # another C library
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    memory.restart_with_training_allocator(["train", "DATA"])
    assert restarts == []
    assert "GLIBC_TUNABLES" not in os.environ


def test_a_failed_restart_goes_on_with_the_environment_it_had(monkeypatch):
    attempts = []

    def fail(*args):
        attempts.append(args)
        raise FileNotFoundError("no such executable")

    monkeypatch.setattr(os, "execv", fail)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/seqcore", "train", "DATA"])
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    memory.restart_with_training_allocator(["train", "DATA"])
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    monkeypatch.delenv("GLIBC_TUNABLES")
    memory.restart_with_training_allocator(["--some-flag", "train"])
    assert "GLIBC_TUNABLES" not in os.environ
    assert len(attempts) == 2


SCRIPT_CALLING_MAIN = """
import sys

from seqcore.cli.main import main

print("script started", file=sys.stderr)
main()
"""


@glibc_only
def test_a_script_of_ones_own_that_calls_main_is_not_restarted(tmp_path, monkeypatch):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    write(tmp_path / "mine.py", SHOW_TUNABLES)
    script = write(tmp_path / "my_train.py", SCRIPT_CALLING_MAIN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    result = subprocess.run(
        [sys.executable, str(script), "train", "--user-dir", str(tmp_path / "mine.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.stderr.count("script started") == 1, result.stderr
    assert _seen(result.stderr, "tunables:") == "unset"
    assert result.returncode == 1


FAULTS_OF_REUSE = """
import resource

size = 16 * 2**20
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):  # blocks the size of activations, allocated, written and freed
    blocks = [bytearray(size) for _ in range(3)]
    for block in blocks:
        block[::4096] = b"x" * (size // 4096)
    del blocks, block
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_reuse(tunables: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLIBC_", "MALLOC_"))}
    if tunables is not None:
        env["GLIBC_TUNABLES"] = tunables
    faults = subprocess.run(
        [sys.executable, "-c", FAULTS_OF_REUSE], capture_output=True, text=True, env=env, check=True
    ).stdout
    return int(faults)


@glibc_only
def test_the_training_allocator_keeps_freed_memory_for_the_next_use():
    pages = 16 * 2**20 // 4096
    trained = _faults_of_reuse(memory.training_tunables())
    assert trained < 3 * 2 * pages  # faulted in once, then reused
    # glibc's defaults give blocks back to the kernel and fault them in again: how often
    # depends on the machine (about 60 of the 60 blocks on one kind, 18 on another)
    assert _faults_of_reuse(None) > 4 * trained
