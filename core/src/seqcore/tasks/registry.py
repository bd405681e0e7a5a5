"""``register_task``: a task class under a name, with an optional dataclass config (or fairseq's
legacy ``add_args(parser)``, :mod:`seqcore.config.legacy`); ``setup_task``: the task of a config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqcore.config.component import config_name
from seqcore.config.legacy import component_args, legacy_config_class
from seqcore.errors import RegistrationError
from seqcore.registry import TASKS
from seqcore.tasks.base import Task


def register_task(name: str, dataclass: type | None = None) -> Callable[[type], type]:
    """Class decorator: register a :class:`~seqcore.tasks.Task` subclass as ``name``.

    Without ``dataclass``, a class with fairseq's static ``add_args(parser)`` has the options
    that declares, and its ``setup_task(args)`` receives an ``argparse.Namespace``."""

    def decorate(cls: type) -> type:
        config = dataclass or legacy_config_class(cls, "task")
        return TASKS.class_decorator(name, config, Task)(cls)

    return decorate


def setup_task(cfg: Any, **kwargs: Any) -> Task:
    """The task ``cfg`` (a resolved task config) was made for, from its ``setup_task`` (fairseq's
    ``tasks.setup_task``); a legacy task receives the run's options as an ``argparse.Namespace``."""
    name = config_name(cfg)
    if name is None:
        raise RegistrationError("setup_task needs a config made by seqcore's resolver")
    return TASKS.get(name).obj.setup_task(component_args(cfg), **kwargs)
