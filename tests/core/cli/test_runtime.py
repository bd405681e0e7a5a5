"""What the ``seqcore`` process sets up for itself before torch loads."""

import os
import platform
import subprocess
import sys

import pytest
from support import run_seqcore, write

from seqcore.cli import memory

SHOW_ENV = """
import os

import click

import seqcore


@click.command("show-thp")
def show_thp():
    import torch  # noqa: F401  (loaded after the CLI started, as every command does)

    click.echo(os.environ.get("THP_MEM_ALLOC_ENABLE", "unset"))


@seqcore.hookimpl
def seqcore_add_commands(cli):
    cli.add_command(show_thp)
"""


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("0", "0")])
def test_torch_is_asked_for_huge_pages_unless_the_user_said_otherwise(
    tmp_path, monkeypatch, given, seen
):
    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    write(tmp_path / "mine.py", SHOW_ENV)
    env = {"SEQCORE_USER_DIR": str(tmp_path / "mine.py")}
    if given is not None:
        env["THP_MEM_ALLOC_ENABLE"] = given
    result = run_seqcore("show-thp", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == seen


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


@glibc_only
@pytest.mark.parametrize(
    ("given", "seen"),
    [
        (None, "glibc.malloc.tcache_count=0"),
        ("glibc.malloc.arena_max=2", "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0"),
        ("glibc.malloc.tcache_count=3", "glibc.malloc.tcache_count=3"),  # the user's choice
    ],
)
def test_train_runs_in_a_process_restarted_without_glibcs_small_block_cache(
    tmp_path, monkeypatch, given, seen
):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    write(tmp_path / "mine.py", SHOW_TUNABLES)
    env = {} if given is None else {"GLIBC_TUNABLES": given}
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
    memory.restart_without_malloc_cache(["train", "DATA"])
    # another C library
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    memory.restart_without_malloc_cache(["train", "DATA"])
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
    memory.restart_without_malloc_cache(["train", "DATA"])
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    monkeypatch.delenv("GLIBC_TUNABLES")
    memory.restart_without_malloc_cache(["--some-flag", "train"])
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
