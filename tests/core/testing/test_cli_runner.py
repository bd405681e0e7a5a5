"""run_cli, the in-process runner most CLI tests use: what it shows equals what a process shows,
and nothing a run changes reaches the next run or the test."""

from __future__ import annotations

import logging
import os
import random
import signal

import pytest
import torch
from support import run_cli, run_seqcore, write

from seqcore.registry import MODELS

# A --user-dir that changes everything process-wide it can at import, registers a model, and
# warns: run_cli must show the warning and undo the rest.
MESSY = """
import logging, os, random, signal, warnings

import torch

import seqcore
from seqcore.models import BaseModel, register_model

torch.manual_seed(123)
random.seed(123)
torch.set_num_threads(torch.get_num_threads() + 1)  # a change whatever the count was
torch.set_default_dtype(torch.float64)
signal.signal(signal.SIGINT, signal.SIG_IGN)
logging.getLogger("seqcore").addHandler(logging.StreamHandler())
logging.getLogger("seqcore").setLevel(logging.ERROR)
os.environ["SEQCORE_LEFT_BEHIND"] = "1"
os.chdir(os.path.dirname(__file__))
warnings.warn("{name} says hello")


@register_model("isolated_model")
class IsolatedModel(BaseModel):
    pass
"""


def _messy_user_dir(root, name):
    return write(root / name / "__init__.py", MESSY.replace("{name}", name)).parent


def test_a_run_leaves_no_trace_in_the_process(tmp_path):
    torch.manual_seed(7)
    expected_torch = torch.get_rng_state()
    random.seed(7)
    expected_random = random.getstate()
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    sigint = signal.getsignal(signal.SIGINT)
    logger = logging.getLogger("seqcore")

    def handlers():  # but seqcore's console handler, made once per process by the first run
        return [h for h in logger.handlers if not getattr(h, "seqcore_console", False)]

    before = handlers(), logger.level, logger.propagate
    cwd, environ = os.getcwd(), dict(os.environ)
    first = run_cli("plugins", "--user-dir", str(_messy_user_dir(tmp_path, "one")))
    assert first.returncode == 0, first.stderr
    assert "one says hello" in first.stderr  # warnings print as in a process
    assert "isolated_model" in first.stdout
    assert torch.equal(torch.get_rng_state(), expected_torch)
    assert random.getstate() == expected_random
    assert (torch.get_num_threads(), torch.get_default_dtype()) == (threads, dtype)
    assert signal.getsignal(signal.SIGINT) is sigint
    assert (handlers(), logger.level, logger.propagate) == before
    assert dict(os.environ) == environ  # SEQCORE_LEFT_BEHIND, SEQCORE_USER_DIR gone
    assert os.getcwd() == cwd
    assert "isolated_model" not in MODELS
    # another user dir registering the same name: no clash with the first run's component, and
    # its module (the same name, "one") is imported afresh
    second = run_cli("plugins", "--user-dir", str(_messy_user_dir(tmp_path / "b", "one")))
    assert second.returncode == 0, second.stderr
    assert "one says hello" in second.stderr and "clash" not in second.stdout + second.stderr
    assert "isolated_model" not in MODELS


def test_output_and_status_equal_a_processs(tmp_path):
    for args in [
        ("train", str(tmp_path), "-a", "transformer"),  # a user error: one line, status 1
        ("train", "--max-epochs", "1"),  # a usage error: status 2
        ("--version",),
        ("score", "--help"),
    ]:
        inside, process = run_cli(*args), run_seqcore(*args)
        assert (inside.returncode, inside.stdout, inside.stderr) == (
            process.returncode,
            process.stdout,
            process.stderr,
        ), args


def test_env_and_cwd_are_the_runs_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQCORE_USER_DIR", str(tmp_path / "not-there"))  # not inherited
    folder = write(tmp_path / "two" / "__init__.py", "").parent
    result = run_cli("plugins", "--json", env={"SEQCORE_USER_DIR": "two"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(folder) in result.stdout and "not-there" not in result.stdout + result.stderr
    assert os.environ["SEQCORE_USER_DIR"] == str(tmp_path / "not-there")


@pytest.mark.parametrize(
    "args, env",
    [
        (("--disable-plugin", "x", "plugins"), {}),
        (("plugins",), {"SEQCORE_PLUGINS": "x"}),
        (("plugins",), {"PYTHONPATH": "x"}),
    ],
)
def test_what_a_process_reads_when_it_starts_is_refused(args, env):
    with pytest.raises(ValueError, match="test it in a subprocess"):
        run_cli(*args, env=env)
