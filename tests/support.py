"""Helpers for tests that run seqcore as a user would: in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run_seqcore(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``seqcore ARGS`` in a subprocess (as ``python -m seqcore``), text output captured."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "seqcore", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        input=input,
        timeout=timeout,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def fake_distribution(
    site: Path, name: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> dict[str, str]:
    """Lay out an installed distribution in ``site`` (its .dist-info with entry points, and its
    modules) and return the environment that puts ``site`` on the path. importlib-metadata finds
    it exactly as it finds a pip-installed distribution."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    write(dist_info / "METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[seqcore]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    write(dist_info / "entry_points.txt", "\n".join(lines) + "\n")
    for relative, source in modules.items():
        write(site / relative, source)
    existing = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([str(site)] + ([existing] if existing else []))}
