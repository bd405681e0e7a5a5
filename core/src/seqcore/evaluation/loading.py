"""Trained models for inference: loaded from their checkpoints alone, on the chosen device.

Each checkpoint's saved configuration rebuilds its model (plug-ins are looked up again, see
:func:`seqcore.checkpoint_utils.load_model_ensemble`); the task comes from the first checkpoint,
reading the data folder given on the command line. A fairseq checkpoint is imported in memory
(:mod:`seqcore.interop`), so that a fairseq model can be tried before it is converted.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seqcore.checkpoint_utils import load_model_ensemble
from seqcore.config.resolve import ResolvedConfig
from seqcore.errors import CheckpointError, ConfigError
from seqcore.evaluation.config import InferenceConfig
from seqcore.interop.convert import load_fairseq_ensemble
from seqcore.interop.fairseq_checkpoint import looks_like_fairseq_checkpoint


@dataclass
class LoadedModels:
    models: list[nn.Module]
    cfg: ResolvedConfig  # the first checkpoint's configuration
    task: Any
    device: torch.device


def inference_device(choice: str) -> torch.device:
    """``--device``: cuda when asked for (or present, with auto), else cpu."""
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda: no CUDA device is available")
        return torch.device("cuda")
    return torch.device("cpu")


def _check_checkpoint_file(path: str) -> None:
    # seqcore writes checkpoints with torch.save's zip format: anything else is not one of them
    if os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise CheckpointError(f"--path {path} is not a seqcore checkpoint")
    if not os.path.exists(path):
        raise CheckpointError(f"--path {path}: no such checkpoint")
    if os.path.isdir(path):
        raise CheckpointError(f"--path {path} is a folder; give a checkpoint file in it")


def load_for_inference(opts: InferenceConfig) -> LoadedModels:
    """The models of ``--path`` in eval mode on ``--device`` (in ``--fp16``/``--bf16``)."""
    device = inference_device(opts.device)
    if opts.fp16 and device.type != "cuda":
        raise ConfigError("--fp16 needs a CUDA device (use --bf16 on CPU)")
    paths = opts.checkpoint_paths
    for path in paths:
        _check_checkpoint_file(path)
    if any(looks_like_fairseq_checkpoint(path) for path in paths):  # imported in memory
        models, cfg, task = load_fairseq_ensemble(paths, opts.data, opts.overrides)
    else:
        models, cfg, task = load_model_ensemble(paths, data=opts.data, overrides=opts.overrides)
    dtype = torch.float16 if opts.fp16 else torch.bfloat16 if opts.bf16 else None
    for model in models:
        model.to(device=device, dtype=dtype) if dtype is not None else model.to(device)
        model.eval()
    return LoadedModels(models, cfg, task, device)


def move_to(sample: Any, device: torch.device) -> Any:
    """``sample`` with every tensor in it on ``device``."""
    if torch.is_tensor(sample):
        return sample.to(device, non_blocking=True)
    if isinstance(sample, dict):
        return {k: move_to(v, device) for k, v in sample.items()}
    if isinstance(sample, list):
        return [move_to(v, device) for v in sample]
    return sample


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (so that timings measure it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def resolve_max_positions(*limits: Any) -> Any:
    """The tightest of several position limits (an int, a tuple per side, or ``None``: none),
    as fairseq's ``utils.resolve_max_positions``."""
    result: Any = None
    for limit in limits:
        if limit is None:
            continue
        if result is None:
            result = limit
            continue
        if isinstance(result, tuple) != isinstance(limit, tuple):
            if isinstance(result, tuple):
                limit = tuple(limit for _ in result)
            else:
                result = tuple(result for _ in limit)
        if isinstance(result, tuple):
            result = tuple(
                b if a is None else a if b is None else min(a, b) for a, b in zip(result, limit)
            )
        else:
            result = min(result, limit)
    return result
