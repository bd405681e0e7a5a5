"""Reading and writing checkpoint files safely.

Writes are atomic (see :mod:`seqcore.safe_files`): the state goes to a temporary file in the
same folder, is flushed and fsync'ed, and is renamed over the target, so a crash, a kill or a
full disk at any moment leaves every earlier checkpoint intact. Reads use
``torch.load(weights_only=True)``: a file that carries a pickled object (code that would run on
load) is refused without running it, and the types of the entries read are checked.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from seqcore.errors import CheckpointError
from seqcore.safe_files import ctrl_c_held, replacing


def atomic_save(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``state`` to ``path`` atomically; on failure nothing is left behind. A Ctrl-C
    during the write takes effect once the file is complete."""
    with (
        ctrl_c_held(),
        replacing(path, "checkpoint") as tmp,
        open(tmp, "wb") as f,
    ):
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())


def atomic_copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy the finished file ``source`` to ``target``, replacing it atomically. A real copy,
    not a hard link, so that damage to one file never reaches the others."""
    with (
        ctrl_c_held(),
        replacing(target, "checkpoint") as tmp,
        open(source, "rb") as src,
        open(tmp, "wb") as dst,
    ):
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())


def load_checkpoint_file(path: str | os.PathLike, remedy: str = "") -> dict[str, Any]:
    """The contents of a seqcore checkpoint, loaded without executing anything, with the types
    of its entries checked (a malformed file is a one-line error, not a crash later).
    ``remedy`` ends the message of a corrupt file (what the command can do instead)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes); it was not loaded")
    try:
        with warnings.catch_warnings():  # torch warns about legacy files before refusing them
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        found = _UNSAFE_GLOBAL.search(str(e))
        what = (
            f"holds code ({found.group(1)}) that would run when loaded"
            if found
            else "holds pickled objects that could run code when loaded"
        )
        raise CheckpointError(
            f"checkpoint {path} {what}; it was not loaded (seqcore checkpoints hold plain data "
            "only: tensors, numbers, strings)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as e:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(e).__name__}); "
            + (remedy or "it was not loaded")
        ) from None
    check_structure(state, path)
    return state


_UNSAFE_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def check_structure(state: Any, path: str | os.PathLike) -> None:
    """A :class:`CheckpointError` unless ``state`` has a seqcore checkpoint's entries with their
    types: ``model`` a table of tensors, ``cfg`` (when there) a table with ``configs`` and
    ``selections``, ``extra_state`` (when there) a table."""
    if not isinstance(state, dict) or "model" not in state or "seqcore" not in state:
        raise CheckpointError(f"{path} is not a seqcore checkpoint")
    model = state["model"]
    if not isinstance(model, dict):
        raise CheckpointError(f"{path} is malformed: 'model' is {_kind(model)}, not a table")
    for key, value in model.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{path} is malformed: model entry {key!r} is {_kind(value)}, not a tensor"
            )
    if "cfg" in state:
        cfg = state["cfg"]
        if not isinstance(cfg, dict):
            raise CheckpointError(f"{path} is malformed: 'cfg' is {_kind(cfg)}, not a table")
        for key in ("configs", "selections"):
            if not isinstance(cfg.get(key), dict):
                raise CheckpointError(
                    f"{path} is malformed: 'cfg' has no table {key!r} (it is {_kind(cfg.get(key))})"
                )
        for role, values in cfg["configs"].items():
            if not isinstance(values, dict):
                raise CheckpointError(
                    f"{path} is malformed: the options of {role!r} are {_kind(values)}, not a table"
                )
        origins = cfg.get("origins", {})
        if not isinstance(origins, dict) or not all(
            o is None or isinstance(o, dict) for o in origins.values()
        ):
            raise CheckpointError(f"{path} is malformed: 'cfg' has origins that are not tables")
        for role, name in cfg["selections"].items():
            if not isinstance(name, str):
                raise CheckpointError(
                    f"{path} is malformed: the {role!r} chosen is {_kind(name)}, not a name"
                )
    for key in ("extra_state", "optimizer", "lr_scheduler", "criterion"):
        value = state.get(key)
        if value is not None and not isinstance(value, dict):
            raise CheckpointError(f"{path} is malformed: {key!r} is {_kind(value)}, not a table")


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"
