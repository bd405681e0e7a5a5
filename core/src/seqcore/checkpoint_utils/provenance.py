"""What a checkpoint records about where it came from, and the check made with it on loading.

Every seqcore checkpoint carries, beside its weights: the seqcore version and file format that
wrote it, the resolved configuration with the origin of each component (so that loading can
name the plug-in to install), and a fingerprint of each dictionary of the task (so that a data
folder with other dictionaries of the same sizes is caught instead of decoding garbage).
"""

from __future__ import annotations

import hashlib
from typing import Any

from seqcore._version import __version__
from seqcore.config.resolve import ResolvedConfig
from seqcore.errors import CheckpointError

FORMAT = 1  # the layout of the checkpoint's entries; raised when a reader must tell them apart


def provenance(cfg: ResolvedConfig, task: Any) -> dict[str, Any]:
    """The ``seqcore``, ``cfg`` and ``dictionaries`` entries of a checkpoint of a model of
    ``task`` configured as ``cfg``: plain data, safe for ``torch.load(weights_only=True)``."""
    return {
        "seqcore": {"version": __version__, "format": FORMAT},
        "cfg": cfg.as_dict(),
        "dictionaries": dictionary_fingerprints(task),
    }


def dictionary_fingerprints(task: Any) -> dict[str, str]:
    """A hash of each of the task's dictionaries (symbols in order), stored in checkpoints so
    that a data folder with other dictionaries is caught even when the sizes agree."""
    prints = {}
    for side in ("source", "target"):
        dictionary = getattr(task, f"{side}_dictionary", None)
        if dictionary is not None:
            symbols = "\n".join(dictionary[i] for i in range(len(dictionary)))
            prints[side] = hashlib.sha256(symbols.encode("utf-8")).hexdigest()[:16]
    return prints


def check_dictionaries(state: dict[str, Any], task: Any, path: str) -> None:
    """A one-line :class:`CheckpointError` when a dictionary of ``task`` is not the one the
    checkpoint ``state`` (read from ``path``) was trained with; a checkpoint without
    fingerprints (an older one) is not checked here, its weights' shapes are."""
    saved = state.get("dictionaries")
    if not saved:
        return
    here = dictionary_fingerprints(task)
    for side, fingerprint in saved.items():
        if side in here and here[side] != fingerprint:
            data = getattr(task.cfg, "data", "the data folder")
            raise CheckpointError(
                f"the {side} dictionary of {data} is not the one {path} was trained with; "
                "use the data folder the model was trained on"
            )
