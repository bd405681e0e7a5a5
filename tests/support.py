"""Helpers for tests that run seqcore as a user would: in-process (:func:`run_cli`, the default)
or, where the process is what is tested, in a fresh one (:func:`run_seqcore`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from seqcore.testing.cli import CliResult, run_cli  # noqa: F401  (tests import them from here)


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


def restore_ctrl_c() -> None:
    """``preexec_fn`` of a process a test interrupts: SIGINT at its default, which Python turns
    into KeyboardInterrupt, even where the suite runs with SIGINT ignored (which children
    inherit: a shell starts its background jobs so)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


def write_parallel_text(
    folder: Path,
    n_train: int = 64,
    n_valid: int = 16,
    seed: int = 0,
    words: list[str] | None = None,
) -> Path:
    """A reversal task in plain text: ``train.src``/``train.tgt``, ``valid.src``/``valid.tgt``
    (over ``words``, by default w0 ... w11)."""
    import random

    rng = random.Random(seed)
    words = words or [f"w{i}" for i in range(12)]
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in [("train", n_train), ("valid", n_valid)]:
        src_lines, tgt_lines = [], []
        for _ in range(n):
            sent = [rng.choice(words) for _ in range(rng.randint(2, 6))]
            src_lines.append(" ".join(sent))
            tgt_lines.append(" ".join(reversed(sent)))
        (folder / f"{split}.src").write_text("\n".join(src_lines) + "\n")
        (folder / f"{split}.tgt").write_text("\n".join(tgt_lines) + "\n")
    return folder


def binarize_parallel(text: Path, dest: Path) -> Path:
    """``text``'s splits as a fairseq data-bin folder, written with seqcore's data library."""
    from seqcore.data.dictionary import Dictionary
    from seqcore.data.indexed_dataset import MMapIndexedDatasetBuilder, best_dtype

    dest.mkdir(parents=True, exist_ok=True)
    for lang in ("src", "tgt"):
        dictionary = Dictionary()
        for line in (text / f"train.{lang}").read_text().splitlines():
            for word in line.split():
                dictionary.add_symbol(word)
        dictionary.finalize()
        dictionary.save(str(dest / f"dict.{lang}.txt"))
        for split in ("train", "valid"):
            prefix = dest / f"{split}.src-tgt.{lang}"
            builder = MMapIndexedDatasetBuilder(f"{prefix}.bin", dtype=best_dtype(len(dictionary)))
            for line in (text / f"{split}.{lang}").read_text().splitlines():
                builder.add_item(dictionary.encode_line(line, add_if_not_exist=False))
            builder.finalize(f"{prefix}.idx")
    return dest


# A tiny transformer: fast enough to train a few updates in a test.
TINY_TRANSFORMER = [
    "-a",
    "transformer",
    "--encoder-layers",
    "1",
    "--decoder-layers",
    "1",
    "--encoder-embed-dim",
    "16",
    "--decoder-embed-dim",
    "16",
    "--encoder-ffn-embed-dim",
    "32",
    "--decoder-ffn-embed-dim",
    "32",
    "--encoder-attention-heads",
    "2",
    "--decoder-attention-heads",
    "2",
    "--optimizer",
    "adam",
    "--lr",
    "0.003",
    "--max-tokens",
    "64",
    "--num-workers",
    "0",
    "--log-format",
    "json",
    "--log-interval",
    "1",
    "--dropout",
    "0.1",
]


def train_tiny(
    data_bin: Path, save_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> CliResult:
    """``seqcore train`` of :data:`TINY_TRANSFORMER` on ``data_bin`` into ``save_dir`` (with
    ``extra`` flags), in-process, which must succeed."""
    result = run_cli(
        "train", str(data_bin), *TINY_TRANSFORMER, "--save-dir", str(save_dir), *extra, env=env
    )
    assert result.returncode == 0, result.stderr
    return result


def json_records(
    result: CliResult | subprocess.CompletedProcess, kind: str | None = None
) -> list[dict]:
    """The records a run logged with ``--log-format json`` (those of ``kind`` when given)."""
    import json

    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [r for r in records if kind is None or r["kind"] == kind]
