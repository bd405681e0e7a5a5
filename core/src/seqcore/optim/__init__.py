"""Optimizers (fairseq's ``fairseq.optim`` names)."""

from seqcore.optim.base import Optimizer
from seqcore.optim.functional_optimizer import FunctionalOptimizer
from seqcore.optim.learning_rate import LearningRateConfig
from seqcore.optim.registry import register_optimizer

__all__ = [
    "FunctionalOptimizer",
    "LearningRateConfig",
    "Optimizer",
    "register_optimizer",
]
