"""Criterions (fairseq's ``fairseq.criterions`` names)."""

from seqcore.criterions.base import Criterion
from seqcore.criterions.registry import register_criterion

__all__ = ["Criterion", "register_criterion"]
