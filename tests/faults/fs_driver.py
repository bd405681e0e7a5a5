"""Run seqcore commands against small tmpfs file systems (full, or read-only), in-process.

Started by test_file_systems.py as ``unshare -m python fs_driver.py SPEC RESULT``: in its own
mount namespace it mounts one tmpfs per case (nothing outside the process sees them), runs the
case's command with ``seqcore.cli.main.main`` and writes, per case, the exit status, stderr and
the files left on that file system to RESULT (JSON).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import time


def _mount(case: dict) -> None:
    where = case["mount"]
    os.makedirs(where, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={case['size']}", "tmpfs", where],
                   check=True)  # fmt: skip
    for folder in case.get("mkdirs", []):
        os.makedirs(os.path.join(where, folder), exist_ok=True)
    if case.get("fill"):
        with contextlib.suppress(OSError), open(os.path.join(where, "filler"), "wb", 0) as f:
            while True:
                f.write(b"\0" * 4096)
    if case.get("read_only"):
        subprocess.run(["mount", "-o", "remount,ro", where], check=True)


def _files(where: str) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(root, name), where)
        for root, dirs, files in os.walk(where)
        for name in files + dirs
    )


def _run(argv: list[str]) -> tuple[int, str]:
    from seqcore.cli.main import main

    logging.getLogger("seqcore").handlers.clear()
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            main(argv)
            status = 0
        except SystemExit as e:
            status = int(e.code or 0)
    return status, err.getvalue()


def main() -> None:
    spec, result_path = sys.argv[1], sys.argv[2]
    with open(spec) as f:
        cases = json.load(f)
    results = {}
    for case in cases:
        _mount(case)
        before = _files(case["mount"])
        start = time.perf_counter()
        status, err = _run(case["argv"])
        print(f"{case['name']}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        results[case["name"]] = {
            "status": status,
            "err": err,
            "before": before,
            "after": _files(case["mount"]),
        }
    with open(result_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
