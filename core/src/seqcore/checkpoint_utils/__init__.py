"""Checkpoints: writing and reading the files, what they record, and models rebuilt from them.

One package owns everything about a checkpoint, under the name fairseq users know
(``fairseq.checkpoint_utils``), with one small module per job:

- :mod:`~seqcore.checkpoint_utils.files`: atomic writes and copies, and reads with
  ``torch.load(weights_only=True)`` and the entries' types checked (no pickled code runs);
- :mod:`~seqcore.checkpoint_utils.provenance`: the version, configuration, plug-in origins and
  dictionary fingerprints a checkpoint records, and the dictionary check made with them;
- :mod:`~seqcore.checkpoint_utils.manager`: which files a training run writes and keeps
  (fairseq's ``checkpoint_last.pt``, ``checkpoint_best.pt``, keep-last-N and keep-best rules);
- :mod:`~seqcore.checkpoint_utils.loading`: the configuration a checkpoint was trained with,
  its components looked up again, and the models built and loaded from it.

Why a package under this name: what a checkpoint holds is decided in one place (the writer, the
reader and the model loader agree because they live together), a fairseq user finds it where
``fairseq.checkpoint_utils`` was, and each job stays a module small enough to read at once.
Callers import the names exported here (``from seqcore.checkpoint_utils import
load_checkpoint_file``); the modules are the package's layout, not separate entry points.

It sits below :mod:`seqcore.training`, :mod:`seqcore.evaluation` and :mod:`seqcore.interop`,
which all read or write checkpoints, and above the registries and the plug-in loader, which
loading a model needs; it imports nothing from the layers that use it.
"""

from seqcore.checkpoint_utils.files import (
    atomic_copy,
    atomic_save,
    check_structure,
    load_checkpoint_file,
)
from seqcore.checkpoint_utils.loading import (
    INFERENCE_ROLES,
    check_weights_fit,
    checkpoint_config,
    load_model_ensemble,
    load_weights,
)
from seqcore.checkpoint_utils.manager import CheckpointManager
from seqcore.checkpoint_utils.provenance import (
    FORMAT,
    check_dictionaries,
    dictionary_fingerprints,
    provenance,
)

__all__ = [
    "FORMAT",
    "INFERENCE_ROLES",
    "CheckpointManager",
    "atomic_copy",
    "atomic_save",
    "check_dictionaries",
    "check_structure",
    "check_weights_fit",
    "checkpoint_config",
    "dictionary_fingerprints",
    "load_checkpoint_file",
    "load_model_ensemble",
    "load_weights",
    "provenance",
]
