"""``seqcore new-plugin``: the distribution it writes installs (a real, non-editable pip install
of a wheel built from it), is found by seqcore, and its own generated tests pass: the kit's
checks of every component, ``seqcore plugins`` listing it, its command, and ``seqcore train``
with all its components (its task included) followed by ``seqcore generate`` with the
checkpoint."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from support import run_cli

from seqcore.scaffold import compatible_range

ALL_KINDS = ["model", "criterion", "task", "optimizer", "lr_scheduler", "hook", "command"]


def _kinds(*kinds: str) -> list[str]:
    return [arg for kind in kinds for arg in ("--kind", kind)]


def test_generated_plugin_installs_and_passes_its_tests(tmp_path: Path):
    result = run_cli("new-plugin", "foo", *_kinds(*ALL_KINDS), "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    plugin = tmp_path / "seqcore-plugin-foo"
    assert f"wrote {plugin}" in result.stdout
    site = tmp_path / "site"
    # the process is what is tested here: pip building and installing the wheel, then a fresh
    # interpreter finding the plug-in through its entry point
    # setuptools of this environment where it has one (fast, offline), else pip fetches it
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", *isolation]
        + ["--target", str(site), str(plugin)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    assert (site / "seqcore_plugin_foo-0.1.0.dist-info").is_dir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(plugin / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    # seqcore plugins, one check per kind but command, the command itself, the task's own
    # behaviour (source words dropped in training only), train + generate
    assert "10 passed" in tests.stdout


def test_generated_files(tmp_path: Path):
    assert run_cli("new-plugin", "baz", "--dir", str(tmp_path)).returncode == 0
    plugin = tmp_path / "seqcore-plugin-baz"
    files = sorted(str(p.relative_to(plugin)) for p in plugin.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/seqcore_baz/__init__.py",
        "src/seqcore_baz/model.py",
        "tests/conftest.py",
        "tests/test_components.py",
    ]
    pyproject = (plugin / "pyproject.toml").read_text()
    assert f'dependencies = ["seqcore-toolkit{compatible_range()}"]' in pyproject
    assert '[project.entry-points.seqcore]\nbaz = "seqcore_baz"' in pyproject
    assert 'pytest_plugins = ["seqcore.testing"]' in (plugin / "tests/conftest.py").read_text()
    for path in plugin.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_compatible_range():
    assert compatible_range("0.1.0") == ">=0.1,<0.2"
    assert compatible_range("0.4.2") == ">=0.4,<0.5"
    assert compatible_range("2.3.1") == ">=2.3,<3"


def test_refuses_to_overwrite(tmp_path: Path):
    existing = tmp_path / "seqcore-plugin-foo"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep")
    result = run_cli("new-plugin", "foo", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"seqcore: error: {existing} already exists; choose another NAME or --dir\n"
    )
    assert [p.name for p in existing.iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seqcore-plugin-foo"]


def test_rejects_bad_names(tmp_path: Path):
    for name in ["Foo", "foo-bar", "1foo", "foo.bar", "x" * 41]:
        result = run_cli("new-plugin", name, "--dir", str(tmp_path))
        assert result.returncode == 1, name
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"plug-in name {name!r}: use 1-40 lowercase letters" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_rejects_unknown_kind(tmp_path: Path):
    result = run_cli("new-plugin", "foo", "--kind", "tokenizer", "--dir", str(tmp_path))
    assert result.returncode == 2
    assert "'tokenizer' is not one of 'model', 'criterion'" in result.stderr
