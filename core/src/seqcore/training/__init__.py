"""Training: the trainer that makes each update, and the run around it (``seqcore train``).

:class:`Trainer` is what hooks receive as ``trainer``; :mod:`seqcore.hookspecs` lists what they
may read of it.
"""

from seqcore.training.trainer import Trainer, TrainingError

__all__ = ["Trainer", "TrainingError"]
