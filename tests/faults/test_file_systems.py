"""Real small file systems that fill up or are read-only, for every writer: train (checkpoints),
preprocess, generate --results-path and average-checkpoints.

Each case gets its own tmpfs, mounted in a private mount namespace (``unshare -m``; needs root
or user namespaces): a read-only tmpfs refuses writes even to root, where a chmod'ed folder
does not. Where mounting is not permitted these tests skip, and the same refusals are simulated
in-process by test_simulated_file_systems.py. Each command must end with one line naming the
path and the free space, status 1, and leave the file system as it found it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from faults.conftest import TINY

DRIVER = Path(__file__).with_name("fs_driver.py")


@pytest.fixture(scope="module")
def mount_permitted(tmp_path_factory) -> None:
    where = tmp_path_factory.mktemp("mount-probe")
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command: the full and read-only disks are simulated in-process "
                    "instead (test_simulated_file_systems.py)")  # fmt: skip
    probe = subprocess.run(
        ["unshare", "-m", "mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(where)],
        capture_output=True, text=True,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(
            f"mounting a tmpfs is not permitted here ({probe.stderr.strip()}): the full and "
            "read-only disks are simulated in-process instead (test_simulated_file_systems.py)"
        )


def _run_cases(cases: list[dict], tmp_path: Path) -> dict:
    spec, result = tmp_path / "spec.json", tmp_path / "result.json"
    spec.write_text(json.dumps(cases))
    done = subprocess.run(["unshare", "-m", sys.executable, str(DRIVER), str(spec), str(result)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(result.read_text())


def _cases(root: Path, data_bin: Path, text: Path, trained: Path, read_only: bool) -> list[dict]:
    kind = "ro" if read_only else "full"
    # sizes: a checkpoint of the tiny model is ~100 KiB; preprocess writes ten files of a page
    # each; generate's results are ~2 KiB, so its file system starts full
    cases = [
        ("train", "64k", False, ["ck"],
         ["train", data_bin, *TINY, "--save-dir", "{m}/ck", "--max-update", "2"]),
        ("preprocess", "16k", False, ["data"],
         ["preprocess", "-s", "src", "-t", "tgt", "--trainpref", text / "train", "--validpref",
          text / "valid", "--destdir", "{m}/data"]),
        ("generate", "16k", True, ["out"],
         ["generate", data_bin, "--path", trained / "checkpoint_last.pt", "--results-path",
          "{m}/out"]),
        ("average", "64k", False, ["avg"],
         ["average-checkpoints", "--inputs", trained / "checkpoint1.pt",
          trained / "checkpoint2.pt", "--output", "{m}/avg/averaged.pt"]),
    ]  # fmt: skip
    out = []
    for name, size, fill, mkdirs, argv in cases:
        mount = root / f"{kind}-{name}"
        out.append({
            "name": name, "mount": str(mount), "size": size, "mkdirs": mkdirs,
            "fill": fill and not read_only, "read_only": read_only,
            "argv": [str(a).replace("{m}", str(mount)) for a in argv],
        })  # fmt: skip
    return out


# what each command's line says: the path it could not write
WHERE = {
    "train": "cannot write checkpoint {m}/ck/checkpoint",
    "preprocess": "preprocessed data to --destdir {m}/data",
    "generate": "--results-path file {m}/out/generate-test.txt",
    "average": "checkpoint {m}/avg/averaged.pt",
}
WHERE_READ_ONLY = {**WHERE, "train": "--save-dir {m}/ck is not writable"}


def _check(results: dict, cases: list[dict], reason: str, where: dict) -> None:
    for case in cases:
        name, m = case["name"], case["mount"]
        got = results[name]
        lines = [line for line in got["err"].splitlines() if line.strip()]
        assert got["status"] == 1, (name, got["err"])
        assert lines[-1].startswith("seqcore: error: "), (name, got["err"])
        assert sum(line.startswith("seqcore:") for line in lines) == 1, (name, got["err"])
        assert "Traceback" not in got["err"], (name, got["err"])
        assert where[name].format(m=m) in lines[-1], (name, lines[-1])
        if "not writable" not in lines[-1]:
            assert reason in lines[-1] and " free on " in lines[-1], (name, lines[-1])
        assert got["after"] == got["before"], (name, got["after"])


def test_a_disk_that_fills_up_during_a_write(
    mount_permitted, data_bin, text_dir, trained, tmp_path
):
    cases = _cases(tmp_path, data_bin, text_dir, trained, read_only=False)
    results = _run_cases(cases, tmp_path)
    _check(results, cases, "No space left on device", WHERE)


def test_a_read_only_output_folder(mount_permitted, data_bin, text_dir, trained, tmp_path):
    cases = _cases(tmp_path, data_bin, text_dir, trained, read_only=True)
    results = _run_cases(cases, tmp_path)
    _check(results, cases, "Read-only file system", WHERE_READ_ONLY)
