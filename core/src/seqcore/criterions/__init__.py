"""Criterions (fairseq's ``fairseq.criterions`` names)."""

from seqcore.criterions.base import Criterion
from seqcore.criterions.registry import CRITERION_REGISTRY, register_criterion

__all__ = ["CRITERION_REGISTRY", "Criterion", "register_criterion"]
