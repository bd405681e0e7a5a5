"""The core's own components, loaded through the ``seqcore`` entry point like any plug-in.

Importing this module registers them; ``SEQCORE_DISABLE_PLUGIN_AUTOLOAD=1`` still loads it.
"""

from seqcore.criterions import cross_entropy, label_smoothed_cross_entropy
from seqcore.optim import sgd
from seqcore.optim.lr_scheduler import (
    cosine,
    fixed,
    inverse_sqrt,
    polynomial_decay,
    reduce_lr_on_plateau,
    tri_stage,
)
from seqcore.tasks import language_modeling, translation

__all__ = [
    "cosine",
    "cross_entropy",
    "fixed",
    "inverse_sqrt",
    "label_smoothed_cross_entropy",
    "language_modeling",
    "polynomial_decay",
    "reduce_lr_on_plateau",
    "sgd",
    "translation",
    "tri_stage",
]
