"""``nox -s tests`` (README's and CI's test command) runs the suite with pytest-xdist, and what
comes after ``--`` still decides: ``-n 0`` for one process, a path for part of the suite. The
noxfile is run here with a stand-in for nox that records the session's calls."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

NOXFILE = Path(__file__).resolve().parents[1] / "noxfile.py"


class _Session:
    def __init__(self, posargs: list[str]):
        self.posargs = posargs
        self.installed: list[str] = []
        self.runs: list[tuple[str, ...]] = []
        self.env: dict[str, str | None] = {}

    def install(self, *args: str) -> None:
        self.installed += args

    def run(self, *args: str, **kwargs) -> None:
        self.runs.append(args)


def _noxfile(monkeypatch) -> types.ModuleType:
    fake_nox = types.ModuleType("nox")
    fake_nox.options = types.SimpleNamespace()
    fake_nox.session = lambda f: f
    fake_nox.Session = _Session
    monkeypatch.setitem(sys.modules, "nox", fake_nox)
    spec = importlib.util.spec_from_file_location("seqcore_noxfile", NOXFILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tests_session_runs_two_workers_with_whole_files_each(monkeypatch):
    session = _Session([])
    _noxfile(monkeypatch).tests(session)
    assert "pytest-xdist" in session.installed and "filelock" in session.installed
    assert session.runs == [("pytest", "-n", "2", "--dist", "loadfile")]


def test_arguments_after_the_double_dash_come_last_and_name_no_other_path(monkeypatch):
    session = _Session(["-n", "0", "tests/packaging"])
    _noxfile(monkeypatch).tests(session)
    # pytest takes the last -n; with a path given, pytest.ini's testpaths (tests) is not added
    assert session.runs == [
        ("pytest", "-n", "2", "--dist", "loadfile", "-n", "0", "tests/packaging")
    ]


def test_commands_that_import_torch_may_write_their_bytecode_cache(monkeypatch):
    # the installs skip byte-compiling; with PYTHONDONTWRITEBYTECODE inherited, every process of
    # the suite would compile torch again (nox removes a variable whose value is None)
    noxfile = _noxfile(monkeypatch)
    for name, posargs in (("tests", []), ("bench", ["bench/bench_generate.py"]), ("demo", [])):
        session = _Session(posargs)
        getattr(noxfile, name)(session)
        assert "--no-compile" in session.installed
        assert session.env == {"PYTHONDONTWRITEBYTECODE": None}, name
