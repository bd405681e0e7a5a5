"""Installing from a package index, as a user does: by name, with the core as a dependency.

Every distribution of the repository is built into a wheelhouse with ``pip wheel --no-deps``; a
fresh virtual environment then gets them with ``pip install --no-index --find-links WHEELHOUSE
NAME``, so only the requirements written in the wheels' metadata bring the core in. The fresh
environment "already has torch": the core's third-party requirements (torch, numpy, click, ...)
are not installed again but linked from the environment running the tests, through a ``.pth``
file, which keeps this test at a few seconds per install instead of minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import importlib_metadata
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
CORE = "seqcore-toolkit"
PLUGINS = {
    "seqcore-plugin-transformer": ROOT / "plugins" / "transformer",
    "seqcore-plugin-lstm": ROOT / "plugins" / "lstm",
    "seqcore-plugin-adam": ROOT / "plugins" / "adam",
    "seqcore-plugin-toy": ROOT / "tests" / "fixtures" / "seqcore-plugin-toy",
}
SOURCES = {CORE: ROOT / "core", **PLUGINS}


def _normalize(name: str) -> str:
    return canonicalize_name(name)


def _requirement_name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    """Wheels of every distribution, built from copies of the source folders (building in place
    would leave build/ and *.egg-info folders in the repository)."""
    sources = tmp_path_factory.mktemp("sources")
    house = tmp_path_factory.mktemp("wheelhouse")
    copies = []
    for name, folder in SOURCES.items():
        copy = sources / name
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        copies.append(str(copy))
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(house), *copies)
    return house


def _pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"pip {' '.join(args)}\n{result.stdout}\n{result.stderr}"


def _third_party_closure() -> list[importlib_metadata.Distribution]:
    """The installed distributions the core needs, transitively, other than this repository's."""
    own = {_normalize(n) for n in SOURCES}
    todo, seen, found = [CORE], set(), []
    while todo:
        name = _normalize(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = importlib_metadata.distribution(name)
        except importlib_metadata.PackageNotFoundError:
            continue  # a requirement under a marker that does not apply here
        if name not in own:
            found.append(dist)
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


@pytest.fixture(scope="module")
def with_torch(tmp_path_factory) -> Path:
    """A folder holding links to torch and the core's other third-party requirements (files and
    metadata), for fresh environments to put on their path."""
    base = tmp_path_factory.mktemp("base-site")
    for dist in _third_party_closure():
        assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD"
        tops = {Path(f).parts[0] for f in dist.files if not str(f).startswith("..")}
        for top in tops:
            target = Path(dist.locate_file(top))
            if target.exists() and not (base / top).exists():
                (base / top).symlink_to(target)
    return base


def _fresh_venv(path: Path, base: Path) -> Path:
    venv.create(path, with_pip=False)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "seqcore_test_base.pth").write_text(f"{base}\n")
    return python


def _run(python: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, env=env, timeout=300
    )


def _install(python: Path, house: Path, requirement: str) -> None:
    _pip("--python", str(python), "install", "--no-index", "--find-links", str(house), requirement)


def _installed(python: Path) -> dict[str, str]:
    probe = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()"
        " if d.metadata['Name'].startswith('seqcore')}))"
    )
    result = _run(python, "-c", probe)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _seqcore(python: Path, *args: str) -> subprocess.CompletedProcess:
    return _run(python, "-m", "seqcore", *args)


def _assert_transformer_usable(python: Path) -> dict[str, dict]:
    result = _seqcore(python, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)}
    transformer = records["seqcore-plugin-transformer"]
    assert transformer["errors"] == []
    assert "transformer" in [m["name"] for m in transformer["components"]["model"]]
    result = _seqcore(python, "train", "-a", "transformer", "--help")
    assert result.returncode == 0, result.stderr
    assert "--encoder-layers" in result.stdout
    return records


def test_a_plugin_installed_by_name_brings_the_core(wheelhouse, with_torch, tmp_path):
    python = _fresh_venv(tmp_path / "env", with_torch)
    _install(python, wheelhouse, "seqcore-plugin-transformer")
    assert _installed(python) == {CORE: "0.1.0", "seqcore-plugin-transformer": "0.1.0"}
    records = _assert_transformer_usable(python)
    assert set(records) == {CORE, "seqcore-plugin-transformer"}
    result = _seqcore(python, "train", "-a", "lstm", "--help")
    assert result.returncode == 1 and "unknown model architecture 'lstm'" in result.stderr


def test_the_core_with_its_all_extra_brings_every_first_party_plugin(
    wheelhouse, with_torch, tmp_path
):
    python = _fresh_venv(tmp_path / "env", with_torch)
    _install(python, wheelhouse, f"{CORE}[all]")
    first_party = {"seqcore-plugin-transformer", "seqcore-plugin-lstm", "seqcore-plugin-adam"}
    assert set(_installed(python)) == {CORE, *first_party}
    records = _assert_transformer_usable(python)
    assert set(records) == {CORE, *first_party}
    result = _seqcore(python, "train", "-a", "lstm", "--optimizer", "adam", "--help")
    assert result.returncode == 0, result.stderr


def _metadata(house: Path, name: str) -> list[str]:
    [wheel] = house.glob(f"{name.replace('-', '_')}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(path).decode().splitlines()


def test_every_plugin_requires_the_core_by_its_distribution_name(wheelhouse):
    for name in PLUGINS:
        requires = [
            line.split(":", 1)[1].strip()
            for line in _metadata(wheelhouse, name)
            if line.startswith("Requires-Dist:")
        ]
        names = [_requirement_name(r) for r in requires]
        assert CORE in names, f"{name} requires {requires}"
        assert "seqcore" not in names, f"{name} requires the unrelated PyPI project 'seqcore'"
    core = _metadata(wheelhouse, CORE)
    assert f"Name: {CORE}" in core
    extra_all = []
    for line in core:
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.split(":", 1)[1])
            marker = requirement.marker
            if marker is not None and "extra" in str(marker) and marker.evaluate({"extra": "all"}):
                extra_all.append(canonicalize_name(requirement.name))
    assert sorted(extra_all) == [
        "seqcore-plugin-adam",
        "seqcore-plugin-lstm",
        "seqcore-plugin-transformer",
    ]
