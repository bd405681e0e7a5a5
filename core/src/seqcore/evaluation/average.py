"""``seqcore average-checkpoints``: the mean of several checkpoints' weights, as fairseq's
``scripts/average_checkpoints.py``.

Floating-point weights are averaged in float64 and stored in their own dtype; integer tensors
(counters, say) get the floor of the mean, as in fairseq. Everything else (configuration,
optimizer state, epoch, ...) is kept from the newest input (the most updates), so the result
loads like any checkpoint of the run. The output is written atomically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import torch

from seqcore.checkpoint_utils import atomic_save, load_checkpoint_file
from seqcore.errors import CheckpointError, DataError
from seqcore.evaluation.config import AverageCheckpointsConfig
from seqcore.safe_files import remove_leftovers

EPOCH_CHECKPOINT = re.compile(r"checkpoint(\d+)\.pt")
UPDATE_CHECKPOINT = re.compile(r"checkpoint_\d+_(\d+)\.pt")


def last_n_checkpoints(
    folder: str, n: int, update_based: bool, upper_bound: int | None = None
) -> list[str]:
    """The ``n`` newest epoch (``checkpointN.pt``) or update (``checkpoint_E_U.pt``) checkpoints
    of ``folder``, newest first, ignoring those past ``upper_bound``."""
    pattern = UPDATE_CHECKPOINT if update_based else EPOCH_CHECKPOINT
    try:
        names = os.listdir(folder)
    except OSError as e:
        raise DataError(f"--inputs {folder}: {e.strerror or e}") from None
    found = []
    for name in names:
        m = pattern.fullmatch(name)
        if m is not None and (upper_bound is None or int(m.group(1)) <= upper_bound):
            found.append((int(m.group(1)), name))
    if len(found) < n:
        kind = "checkpoint_E_U.pt" if update_based else "checkpointN.pt"
        bound = f" up to {upper_bound}" if upper_bound is not None else ""
        raise DataError(
            f"--inputs {folder} holds {len(found)} {kind} files{bound} but {n} are to be averaged"
        )
    return [os.path.join(folder, name) for _, name in sorted(found, reverse=True)[:n]]


def average_checkpoints(paths: list[str]) -> dict[str, Any]:
    """The newest of ``paths``' states with its ``model`` weights replaced by the mean."""
    sums: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    newest: tuple[int, dict[str, Any]] | None = None
    keys = None
    for path in paths:
        state = load_checkpoint_file(path)
        if not isinstance(state.get("cfg"), dict):
            raise CheckpointError(
                f"{path} is malformed: it has no configuration ('cfg'); only checkpoints of "
                "seqcore train can be averaged"
            )
        weights = state["model"]
        if keys is None:
            keys = list(weights)
        elif set(weights) != set(keys):
            differ = sorted(set(weights) ^ set(keys))
            raise CheckpointError(
                f"{path} holds other weights than {paths[0]} (e.g. {differ[:3]}); only "
                "checkpoints of the same model can be averaged"
            )
        for key in keys:
            tensor = weights[key]
            if key in sums and tensor.shape != sums[key].shape:
                raise CheckpointError(
                    f"{path}: {key} has shape {tuple(tensor.shape)}, but "
                    f"{tuple(sums[key].shape)} in {paths[0]}"
                )
            value = tensor.double() if tensor.is_floating_point() else tensor.long()
            if key in sums:
                sums[key] += value
            else:
                sums[key] = value.clone()
                dtypes[key] = tensor.dtype
        updates = int(state.get("num_updates", 0) or 0)
        if newest is None or updates > newest[0]:
            newest = (updates, state)
        del state, weights
    assert newest is not None and keys is not None
    n = len(paths)
    averaged = {}
    for key in keys:
        total = sums[key]
        mean = (
            total / n if total.is_floating_point() else torch.div(total, n, rounding_mode="floor")
        )
        averaged[key] = mean.to(dtypes[key])
    result = newest[1]
    result["model"] = averaged
    return result


def run_average_checkpoints(
    opts: AverageCheckpointsConfig, echo: Callable[[str], None] = print
) -> list[str]:
    """Do what ``seqcore average-checkpoints`` does; returns the checkpoints averaged."""
    paths = list(opts.inputs)
    if opts.num_epoch_checkpoints is not None or opts.num_update_checkpoints is not None:
        update_based = opts.num_update_checkpoints is not None
        n = opts.num_update_checkpoints if update_based else opts.num_epoch_checkpoints
        paths = last_n_checkpoints(paths[0], n, update_based, opts.checkpoint_upper_bound)
        echo(f"averaging checkpoints: {', '.join(paths)}")
    state = average_checkpoints(paths)
    remove_leftovers(os.path.dirname(os.path.abspath(opts.output)))
    atomic_save(state, opts.output)
    echo(f"Finished writing averaged checkpoint to {opts.output}")
    return paths
