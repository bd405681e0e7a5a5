"""A fairseq checkpoint, read safely and normalised: its options and its weights.

fairseq 0.10 saved a flat ``argparse.Namespace`` as ``args``; fairseq 0.11 and later save
``cfg``, a dict of sections (``model``, ``task``, ``criterion``, ...) where the model section is
either a dict (dataclass models, e.g. ``transformer_lm``) or again a flat Namespace (models
configured the legacy way, e.g. ``transformer``, ``lstm``). Both become a
:class:`FairseqCheckpoint` with flat option dicts.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from typing import Any

import torch

from seqcore.errors import CheckpointError
from seqcore.interop.safe_pickle import load_pickled_checkpoint


@dataclasses.dataclass
class FairseqCheckpoint:
    """What seqcore uses of a fairseq checkpoint."""

    path: str
    arch: str  # fairseq's --arch (the model section's ``_name`` in the hydra form)
    model_options: dict[str, Any]  # the model's options, flat (a legacy Namespace: all options)
    task: str
    task_options: dict[str, Any]
    criterion: str | None
    state_dict: dict[str, torch.Tensor]
    form: str  # "cfg" (fairseq >= 0.11) or "args" (fairseq 0.10)
    num_updates: int = 0

    def option(self, name: str, default: Any = None) -> Any:
        """A model option, else a task option, else ``default``."""
        if name in self.model_options:
            return self.model_options[name]
        return self.task_options.get(name, default)


def looks_like_fairseq_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a torch.save file with fairseq's ``optimizer_history`` entry (seqcore
    checkpoints have none), found in the pickle's bytes without unpickling them."""
    try:
        with zipfile.ZipFile(path) as z:
            pickles = [n for n in z.namelist() if n.endswith("data.pkl")]
            return len(pickles) == 1 and b"optimizer_history" in z.read(pickles[0])
    except (OSError, zipfile.BadZipFile):
        return False


def _section(value: Any, path: str, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: fairseq's {name} options are not a mapping")
    return value


def read_fairseq_checkpoint(path: str | os.PathLike) -> FairseqCheckpoint:
    """Read a fairseq checkpoint through the restricted unpickler and normalise its options.
    A checkpoint from fairseq older than 0.10 is refused with one line."""
    path = str(path)
    state = load_pickled_checkpoint(path)
    if isinstance(state, dict) and "seqcore" in state:
        raise CheckpointError(f"{path} is a seqcore checkpoint already, not a fairseq one")
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} is not a fairseq checkpoint (no model weights in it)")
    cfg, args = state.get("cfg"), state.get("args")
    if cfg:
        cfg = _section(cfg, path, "cfg")
        model = _section(cfg.get("model"), path, "model")
        task = _section(cfg.get("task"), path, "task")
        criterion = _section(cfg.get("criterion"), path, "criterion")
        arch = model.get("arch") or model.get("_name")  # a legacy model section has both
        ckpt = FairseqCheckpoint(
            path=path,
            arch=arch,
            model_options=model,
            task=task.get("_name") or model.get("task") or "translation",
            task_options=task,
            criterion=criterion.get("_name") or model.get("criterion"),
            state_dict=state["model"],
            form="cfg",
        )
    elif args:
        args = _section(args, path, "args")
        _check_not_older_than_0_10(state, args, path)
        ckpt = FairseqCheckpoint(
            path=path,
            arch=args.get("arch"),
            model_options=args,
            task=args.get("task", "translation"),
            task_options=args,
            criterion=args.get("criterion"),
            state_dict=state["model"],
            form="args",
        )
    else:
        raise CheckpointError(
            f"{path} holds neither fairseq's cfg nor its args: it is not a fairseq 0.10+ checkpoint"
        )
    history = state.get("optimizer_history") or [{}]
    if isinstance(history, list) and isinstance(history[-1], dict):
        ckpt.num_updates = int(history[-1].get("num_updates", 0) or 0)
    if not ckpt.arch:
        raise CheckpointError(f"{path}: the fairseq options do not name the model (no arch)")
    if not isinstance(ckpt.state_dict, dict) or not all(
        torch.is_tensor(v) for v in ckpt.state_dict.values()
    ):
        raise CheckpointError(f"{path}: the fairseq model weights are not a dict of tensors")
    return ckpt


def _check_not_older_than_0_10(state: dict[str, Any], args: dict[str, Any], path: str) -> None:
    """fairseq 0.10 was the first release with ``--scoring`` (and the last with ``args``);
    older checkpoints also predate its layouts of the optimizer history and the iterator."""
    old = (
        "optimizer_history" not in state
        or "train_iterator" not in (state.get("extra_state") or {})
        or "scoring" not in args
    )
    if old:
        raise CheckpointError(
            f"{path} was written by fairseq older than 0.10, which seqcore does not import; "
            "load and save it once with fairseq 0.10-0.12 (fairseq upgrades old checkpoints on "
            "load) and import that"
        )
