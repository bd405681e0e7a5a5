"""The end-to-end model check: the trainer's checkpoint loads without executing code and
decodes with ``seqcore generate``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from seqcore.testing.cli import run_cli
from seqcore.testing.contract import ContractError


def check_model_checkpoint(
    arch: str, data: str | os.PathLike, flags: Sequence[str] = (), updates: int = 3
) -> None:
    """Train architecture ``arch`` for ``updates`` updates on the translation folder ``data``
    (``flags``: more ``seqcore train`` flags, e.g. to keep the model tiny), load
    ``checkpoint_last.pt`` with ``torch.load(weights_only=True)``, and decode ``data``'s test
    split from it with ``seqcore generate``."""
    label = f"model architecture {arch!r}"
    with tempfile.TemporaryDirectory(prefix="seqcore-kit-") as tmp:
        save = Path(tmp)
        train = run_cli(
            *["train", str(data), "--arch", arch, "--optimizer", "sgd", "--lr", "0.1"],
            *["--max-tokens", "256", "--max-update", str(updates), "--num-workers", "0"],
            *["--save-dir", str(save), "--no-epoch-checkpoints", *flags],
        )
        if train.returncode != 0:
            raise ContractError(
                label,
                "seqcore train runs a few updates",
                f"exit {train.returncode}: {train.stderr.strip().splitlines()[-1:]}",
                "run the same command by hand (seqcore --debug train ...) to see the traceback",
            )
        checkpoint = save / "checkpoint_last.pt"
        try:
            torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001  (any failure here is the contract broken)
            raise ContractError(
                label,
                "a checkpoint loads with torch.load(weights_only=True) (no pickled objects)",
                f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                "keep only tensors and plain values in state_dict and the config (no objects)",
            ) from None
        generate = run_cli(
            *["generate", str(data), "--path", str(checkpoint), "--beam", "2"],
            *["--max-tokens", "256", "--gen-subset", "test"],
        )
        hypotheses = [x for x in generate.stdout.splitlines() if x.startswith("H-")]
        if generate.returncode != 0 or not hypotheses:
            raise ContractError(
                label,
                "seqcore generate decodes with the trained checkpoint",
                f"exit {generate.returncode}, {len(hypotheses)} hypotheses: "
                f"{generate.stderr.strip().splitlines()[-1:]}",
                "check incremental decoding and reorder_* with check_model, then run "
                "seqcore --debug generate by hand",
            )
