"""The extension point for fairseq interoperability: one importer per family of models.

The core reads fairseq checkpoints safely and writes seqcore's; what a fairseq model's options
and parameter names mean is known only to the plug-in that implements the model. A plug-in
registers a :class:`FairseqImporter` for the fairseq architectures it can take over (and the
seqcore models it can write back), usually at import time::

    from seqcore.interop import FairseqImporter, register_fairseq_importer

    @register_fairseq_importer
    class MyImporter(FairseqImporter):
        fairseq_archs = ("my_model", "my_model_big")
        seqcore_models = ("my_model",)
        ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import torch

from seqcore.errors import CheckpointError, RegistrationError
from seqcore.interop.fairseq_checkpoint import FairseqCheckpoint
from seqcore.origin import Origin, origin_of

StateDict = dict[str, torch.Tensor]


class FairseqImporter:
    """How one family of fairseq models maps onto a seqcore model, and back.

    Subclasses set :attr:`fairseq_archs` (fairseq ``--arch`` names, including its model names)
    and :attr:`seqcore_models`, and implement the methods below. Each method is pure: it gets
    the options or weights and returns new ones; the core does the reading, checking, building
    and writing.
    """

    fairseq_archs: tuple[str, ...] = ()
    seqcore_models: tuple[str, ...] = ()

    # -- fairseq -> seqcore --------------------------------------------------------------------
    def seqcore_arch(self, ckpt: FairseqCheckpoint) -> str:
        """The seqcore architecture to build (its model's config gets :meth:`model_values`);
        where seqcore registers fairseq's own architecture name for the same model, the core
        keeps that name instead."""
        raise NotImplementedError

    def model_values(self, ckpt: FairseqCheckpoint) -> dict[str, Any]:
        """The seqcore model's option values from fairseq's saved options (all that matter:
        the architecture function only fills what is not given here)."""
        raise NotImplementedError

    def unsupported(self, ckpt: FairseqCheckpoint) -> list[str]:
        """fairseq options set in ``ckpt`` that change the computation and that the seqcore
        model does not implement, each as ``--flag value``."""
        return []

    def import_weights(self, state_dict: StateDict, model_cfg: Any) -> StateDict:
        """fairseq's parameters under seqcore's names (buffers fairseq keeps only for itself
        dropped)."""
        raise NotImplementedError

    # -- seqcore -> fairseq --------------------------------------------------------------------
    def fairseq_model_options(self, model_name: str, arch: str, model_cfg: Any) -> Any:
        """The model section of a fairseq 0.12 ``cfg`` for a seqcore model: ``_name`` and every
        option fairseq's model reads, as a dict (dataclass models) or an
        ``argparse.Namespace`` (fairseq's legacy models, as fairseq itself saves them)."""
        raise NotImplementedError

    def export_weights(self, state_dict: StateDict, model_cfg: Any) -> StateDict:
        """seqcore's parameters under fairseq's names, with the buffers fairseq expects."""
        raise NotImplementedError


_IMPORTERS: list[tuple[FairseqImporter, Origin]] = []


def register_fairseq_importer(cls: type[FairseqImporter]) -> type[FairseqImporter]:
    """Register an importer class (a decorator); a fairseq arch or a seqcore model claimed by
    two different importers is an error naming both plug-ins."""
    if not (isinstance(cls, type) and issubclass(cls, FairseqImporter)):
        raise RegistrationError(
            f"register_fairseq_importer takes a FairseqImporter subclass, not {cls!r}"
        )
    origin = origin_of(cls.__module__)
    for existing, where in _IMPORTERS:
        if type(existing) is cls or (
            type(existing).__qualname__ == cls.__qualname__
            and type(existing).__module__ == cls.__module__
        ):
            return cls  # the same importer imported again
        clash = set(existing.fairseq_archs) & set(cls.fairseq_archs)
        clash |= {f"model {m}" for m in set(existing.seqcore_models) & set(cls.seqcore_models)}
        if clash:
            raise RegistrationError(
                f"fairseq importer {cls.__qualname__} ({origin}) claims {', '.join(sorted(clash))}"
                f", already imported by {type(existing).__qualname__} ({where})"
            )
    _IMPORTERS.append((cls(), origin))
    return cls


def registered_importers() -> list[tuple[FairseqImporter, Origin]]:
    return list(_IMPORTERS)


def importer_for_arch(arch: str, path: str) -> FairseqImporter:
    for importer, _ in _IMPORTERS:
        if arch in importer.fairseq_archs:
            return importer
    raise CheckpointError(
        f"{path}: fairseq model {arch!r} has no importer in seqcore; a plug-in that provides "
        "this model kind can register one (seqcore.interop.register_fairseq_importer)"
    )


def importer_for_model(model: str, path: str) -> FairseqImporter:
    for importer, _ in _IMPORTERS:
        if model in importer.seqcore_models:
            return importer
    raise CheckpointError(
        f"{path}: seqcore model {model!r} cannot be exported to fairseq: no plug-in registered "
        "an exporter for it (seqcore.interop.register_fairseq_importer)"
    )


# -- helpers for importers -------------------------------------------------------------------------


def rename(state_dict: StateDict, rules: Iterable[tuple[str, str]]) -> StateDict:
    """``state_dict`` with each key rewritten by the first matching ``(regex, replacement)``
    rule (keys no rule matches are kept)."""
    compiled = [(re.compile(pattern), repl) for pattern, repl in rules]
    renamed = {}
    for key, value in state_dict.items():
        for pattern, repl in compiled:
            if pattern.fullmatch(key):
                key = pattern.sub(repl, key)
                break
        renamed[key] = value
    return renamed


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")
