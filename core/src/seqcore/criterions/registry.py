"""``register_criterion``: a criterion class under a name, with an optional dataclass config (or
fairseq's legacy ``add_args(parser)``, :mod:`seqcore.config.legacy`)."""

from __future__ import annotations

from collections.abc import Callable

from seqcore.config.legacy import legacy_config_class
from seqcore.criterions.base import Criterion
from seqcore.registry import CRITERIONS


def register_criterion(name: str, dataclass: type | None = None) -> Callable[[type], type]:
    """Class decorator: register a :class:`~seqcore.criterions.Criterion` subclass as ``name``.

    Without ``dataclass``, a class with fairseq's static ``add_args(parser)`` has the options
    that declares and is built with an ``argparse.Namespace`` in place of its config."""

    def decorate(cls: type) -> type:
        config = dataclass or legacy_config_class(cls, "criterion")
        return CRITERIONS.class_decorator(name, config, Criterion)(cls)

    return decorate
