"""Models from checkpoints alone: the saved configuration, plug-ins discovered again.

A checkpoint stores its resolved configuration as plain data together with the origin
(distribution and version, or user dir) of every component. Loading it looks each component up
in the registries again; one that is not installed is an error naming it and where it came from.
The weights must then fit the model built from that configuration, and the data folder's
dictionaries those it was trained with (:mod:`seqcore.checkpoint_utils.provenance`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch

from seqcore.checkpoint_utils.files import load_checkpoint_file
from seqcore.checkpoint_utils.provenance import check_dictionaries
from seqcore.config.component import make_config
from seqcore.config.fields import config_fields
from seqcore.config.resolve import ResolvedConfig, model_entry_for_arch
from seqcore.config.types import ConversionError, convert
from seqcore.errors import CheckpointError, UnknownComponentError
from seqcore.loader import load_plugins, why_unavailable
from seqcore.origin import Origin
from seqcore.registry import ARCHITECTURES, CRITERIONS, LR_SCHEDULERS, OPTIMIZERS, TASKS
from seqcore.tasks.registry import setup_task

_REGISTRY_OF_ROLE = {
    "task": ("task", TASKS),
    "criterion": ("criterion", CRITERIONS),
    "optimizer": ("optimizer", OPTIMIZERS),
    "lr_scheduler": ("lr_scheduler", LR_SCHEDULERS),
}


def _origin_text(origin: dict[str, Any] | None) -> str:
    if not origin:
        return "an unknown plug-in"
    return str(Origin(**origin))


def _config_class(role: str, cfg_dict: dict[str, Any], path: str) -> tuple[str, type | None]:
    """(component name, config class) of ``role`` in a checkpoint's configuration."""
    selections = cfg_dict["selections"]
    origins = cfg_dict.get("origins", {})
    try:
        if role == "model":
            arch = selections["arch"]
            if arch not in ARCHITECTURES:
                raise UnknownComponentError(arch)
            entry = model_entry_for_arch(arch)
            return entry.name, entry.config_class
        if role in _REGISTRY_OF_ROLE:
            key, registry = _REGISTRY_OF_ROLE[role]
            entry = registry.get(selections[key])
            return entry.name, entry.config_class
    except UnknownComponentError:
        what = (
            f"model architecture {selections['arch']!r}"
            if role == "model"
            else f"{role.replace('_', ' ')} {selections[_REGISTRY_OF_ROLE[role][0]]!r}"
        )
        origin = origins.get(role)
        why = why_unavailable(Origin(**origin) if origin else None)
        raise CheckpointError(f"{path} needs {what} from {_origin_text(origin)}, {why}") from None
    return role, None  # the trainer's own options: kept as plain data


INFERENCE_ROLES = ("task", "model", "criterion")


def checkpoint_config(
    state: dict[str, Any],
    path: str,
    overrides: dict[str, Any] | None = None,
    roles: tuple[str, ...] | None = None,
) -> ResolvedConfig:
    """The :class:`ResolvedConfig` a checkpoint was trained with, ``overrides`` applied to every
    component that has such a field. With ``roles``, only those components are looked up (so
    inference needs no optimizer plug-in); the trainer's own options are always kept."""
    cfg_dict = state.get("cfg")
    if not isinstance(cfg_dict, dict):
        raise CheckpointError(
            f"{path} is malformed: it has no configuration ('cfg') to rebuild its model from"
        )
    overrides = dict(overrides or {})
    used: set[str] = set()
    configs: dict[str, Any] = {}
    for role, values in cfg_dict["configs"].items():
        if roles is not None and role in _REGISTRY_OF_ROLE and role not in roles:
            continue
        name, config_class = _config_class(role, cfg_dict, path)
        if config_class is None and role not in ("model",) + tuple(_REGISTRY_OF_ROLE):
            configs[role] = _Plain(values)
            for key in set(overrides) & set(values):
                setattr(configs[role], key, overrides[key])
                used.add(key)
            continue
        fields = {f.name: tp for f, tp in config_fields(config_class)}
        kept = {}
        for key, value in values.items():
            if key not in fields:
                continue  # a field the installed version no longer has
            if key in overrides:
                value = overrides[key]
                used.add(key)
            try:
                kept[key] = convert(fields[key], value)
            except ConversionError as e:
                raise CheckpointError(f"{path}: {role} option {key}: {e}") from None
        configs[role] = make_config(config_class, name, kept)
    unknown = sorted(set(overrides) - used)
    if unknown:
        raise CheckpointError(
            f"--model-overrides: {', '.join(unknown)} is not an option of the model in {path}"
        )
    origins = {role: Origin(**o) if o else None for role, o in cfg_dict.get("origins", {}).items()}
    return ResolvedConfig(dict(cfg_dict["selections"]), configs, origins)


@dataclasses.dataclass
class _Plain:
    """The trainer's options from a checkpoint, as attributes."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "values":
            super().__setattr__(name, value)
        else:
            self.values[name] = value


def load_model_ensemble(
    paths: list[str],
    task: Any = None,
    *,
    data: str | None = None,
    overrides: dict[str, Any] | None = None,
    user_dirs: tuple[str, ...] = (),
) -> tuple[list[torch.nn.Module], ResolvedConfig, Any]:
    """Build and load each checkpoint's model; the task comes from the first checkpoint's
    configuration (with ``data`` as its data folder) unless given."""
    load_plugins(user_dirs)
    models, first_cfg = [], None
    for path in paths:
        state = load_checkpoint_file(path)
        cfg = checkpoint_config(state, path, overrides, roles=INFERENCE_ROLES)
        if first_cfg is None:
            first_cfg = cfg
        if task is None:
            if data is not None and hasattr(cfg.task, "data"):
                cfg.task.data = data
            task = setup_task(cfg.task)
        check_dictionaries(state, task, path)
        model = task.build_model(cfg.model)
        load_weights(model, state["model"], path)
        model.eval()
        models.append(model)
    return models, first_cfg, task


def load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], path: str) -> None:
    """Load ``weights``; a mismatch is a one-line error that says what differs."""
    check_weights_fit(model, weights, path)
    model.load_state_dict(weights)


def check_weights_fit(
    model: torch.nn.Module, weights: dict[str, torch.Tensor], path: str | os.PathLike
) -> None:
    """A one-line :class:`CheckpointError` unless ``weights`` has exactly ``model``'s entries,
    each of its shape (another model's checkpoint, or one of other dictionaries)."""
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not fit the model built here: missing {missing[:3]}, unexpected "
            f"{unexpected[:3]} (is it a checkpoint of another model or architecture?)"
        )
    for key, tensor in weights.items():
        if key in own and own[key].shape != tensor.shape:
            raise CheckpointError(
                f"{path} does not fit the model built here: {key} has shape "
                f"{tuple(tensor.shape)} in the checkpoint but {tuple(own[key].shape)} here "
                "(are the data folder's dictionaries the ones it was trained with?)"
            )
