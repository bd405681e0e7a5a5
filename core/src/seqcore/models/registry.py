"""``register_model`` and ``register_model_architecture``, with fairseq's meaning.

A model registers under a name with an optional dataclass config (or, fairseq's legacy style, a
static ``add_args(parser)``: see :mod:`seqcore.config.legacy`); an architecture is a named
function ``fn(cfg)`` that fills fields of that model's config. ``--arch NAME`` selects an
architecture, and through it the model. Every model is also an architecture of its own name that
changes nothing, unless the model registers that architecture explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from seqcore.config.component import config_name
from seqcore.config.legacy import component_args, is_legacy, legacy_config_class
from seqcore.config.resolve import model_entry_for_arch
from seqcore.errors import RegistrationError
from seqcore.models.base import BaseModel
from seqcore.registry import ARCHITECTURES, MODELS

T = TypeVar("T")


def _keep_defaults(cfg: Any) -> None:
    """The architecture a model gets under its own name: the dataclass defaults as they are."""


def register_model(name: str, dataclass: type | None = None) -> Callable[[type[T]], type[T]]:
    """Class decorator: register a :class:`~seqcore.models.BaseModel` subclass as ``name``.

    Without ``dataclass``, a class with fairseq's static ``add_args(parser)`` has the options
    that declares, and its ``build_model(args, task)`` receives an ``argparse.Namespace``."""

    def decorate(cls: type[T]) -> type[T]:
        config = dataclass or legacy_config_class(cls, "model")
        MODELS.class_decorator(name, config, BaseModel)(cls)
        ARCHITECTURES.register(name, _keep_defaults, config, implicit=True, model=name)
        return cls

    return decorate


def register_model_architecture(model_name: str, arch_name: str) -> Callable[[T], T]:
    """Decorator: register ``fn(cfg)`` as architecture ``arch_name`` of model ``model_name``.

    ``fn`` receives a namespace holding only the values the user gave (config file and flags) and
    fills the others, fairseq style: ``cfg.x = getattr(cfg, "x", 512)``. Values it leaves unset
    keep the model's dataclass defaults, and flags given by the user always win.
    """

    def decorate(fn: T) -> T:
        if not callable(fn):
            raise RegistrationError(f"architecture {arch_name!r}: {fn!r} is not callable")
        ARCHITECTURES.register(arch_name, fn, None, model=model_name)
        return fn

    return decorate


def build_model(cfg: Any, task: Any) -> Any:
    """Build the model that ``cfg`` (a resolved model config) was made for; a legacy model
    (``add_args``) receives the run's options as an ``argparse.Namespace``."""
    name = config_name(cfg)
    if name is None:
        raise RegistrationError(
            "build_model needs a config made by seqcore's resolver (it records the model name)"
        )
    entry = MODELS.get(name) if name in MODELS else model_entry_for_arch(name)
    args = component_args(cfg)
    if is_legacy(cfg):
        # as fairseq's build_model: the architecture runs on the whole Namespace first, which
        # sets the names it fills that are not options (the options it fills are set already)
        arch = ARCHITECTURES.get_entry(getattr(args, "arch", name))
        if arch is not None and arch.extra.get("model") == entry.name:
            arch.obj(args)
    return entry.obj.build_model(args, task)
