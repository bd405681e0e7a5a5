"""What the ``seqcore`` process sets up for itself before torch loads."""

import pytest
from support import run_seqcore, write

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
