"""`seqcore --help` and `seqcore --version` start-up time (target: median under 0.3 s).

Baseline measured in the same run: a bare `python -c pass`, and `python -c "import torch"` to show
what importing torch would cost. Prints medians of 5 runs and ratios.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 5
TARGET_S = 0.3


def median_seconds(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS + 1):  # the first run warms the file cache and is dropped
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    exe = shutil.which("seqcore") or sys.exit("the seqcore console script is not installed")
    rows = [
        ("python -c pass (baseline)", median_seconds([sys.executable, "-c", "pass"])),
        ("python -c 'import torch'", median_seconds([sys.executable, "-c", "import torch"])),
        ("seqcore --help", median_seconds([exe, "--help"])),
        ("seqcore --version", median_seconds([exe, "--version"])),
    ]
    base = rows[0][1]
    print(f"{'command':32} {'median s':>9} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:32} {seconds:9.3f} {seconds / base:11.2f}")
    help_s = rows[2][1]
    verdict = "meets" if help_s < TARGET_S else "MISSES"
    print(f"seqcore --help median {help_s:.3f} s {verdict} the {TARGET_S} s target")


if __name__ == "__main__":
    main()
