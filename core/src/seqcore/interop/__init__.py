"""Interoperability with fairseq: safe reading of its checkpoints, import and export."""

from seqcore.interop.fairseq_checkpoint import (
    FairseqCheckpoint,
    looks_like_fairseq_checkpoint,
    read_fairseq_checkpoint,
)
from seqcore.interop.importers import (
    FairseqImporter,
    flag,
    importer_for_arch,
    importer_for_model,
    register_fairseq_importer,
    registered_importers,
    rename,
)
from seqcore.interop.safe_pickle import UnsafePickleError, load_pickled_checkpoint

__all__ = [
    "FairseqCheckpoint",
    "FairseqImporter",
    "UnsafePickleError",
    "flag",
    "importer_for_arch",
    "importer_for_model",
    "load_pickled_checkpoint",
    "looks_like_fairseq_checkpoint",
    "read_fairseq_checkpoint",
    "register_fairseq_importer",
    "registered_importers",
    "rename",
]
