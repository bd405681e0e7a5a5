"""``register_criterion``: a criterion class under a name, with an optional dataclass config."""

from __future__ import annotations

from collections.abc import Callable

from seqcore.criterions.base import Criterion
from seqcore.registry import CRITERIONS


def register_criterion(name: str, dataclass: type | None = None) -> Callable[[type], type]:
    """Class decorator: register a :class:`~seqcore.criterions.Criterion` subclass as ``name``."""
    return CRITERIONS.class_decorator(name, dataclass, Criterion)
