"""fairseq checkpoints to seqcore checkpoints and back.

Import: the checkpoint is read through the restricted unpickler, the plug-in's importer maps the
model's options and weights, the task is set up on the data folder (its dictionaries must fit
the checkpoint's embeddings), the model is built and the weights loaded into it as a check, and
the result is a seqcore checkpoint state like any other (plain data and tensors).

Export: a seqcore checkpoint's model, under fairseq's names, with a fairseq 0.12 ``cfg`` (plain
dicts, nothing that needs fairseq's or omegaconf's classes to unpickle).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

import torch

from seqcore._version import __version__
from seqcore.checkpoint_utils import (
    INFERENCE_ROLES,
    atomic_save,
    check_dictionaries,
    checkpoint_config,
    load_checkpoint_file,
    load_weights,
    provenance,
)
from seqcore.config.fields import config_fields
from seqcore.config.resolve import (
    ARCH,
    CRITERION,
    TASK,
    ResolvedConfig,
    model_entry_for_arch,
    resolve,
    selected_components,
)
from seqcore.config.types import ConversionError, convert
from seqcore.errors import CheckpointError, SeqcoreError
from seqcore.interop.fairseq_checkpoint import (
    FairseqCheckpoint,
    looks_like_fairseq_checkpoint,
    read_fairseq_checkpoint,
)
from seqcore.interop.fairseq_defaults import task_section
from seqcore.interop.importers import importer_for_arch, importer_for_model
from seqcore.loader import load_plugins
from seqcore.registry import ARCHITECTURES, CRITERIONS, TASKS

_log = logging.getLogger(__name__)

# fairseq criterions that seqcore has under the same name; any other is only a training choice
# (inference does not use it), so the import falls back to cross_entropy for it.
_FALLBACK_CRITERION = "cross_entropy"
# the task options carried over: what decides how the data is read and batched for the model
# (training-only options such as --upsample-primary keep seqcore's defaults)
_TASK_OPTIONS = {
    "data",
    "source_lang",
    "target_lang",
    "left_pad_source",
    "left_pad_target",
    "max_source_positions",
    "max_target_positions",
    "tokens_per_sample",
    "sample_break_mode",
}


@dataclasses.dataclass
class Imported:
    """A fairseq checkpoint as seqcore sees it: the seqcore checkpoint state, and the task and
    model built for it (the model holds the imported weights)."""

    state: dict[str, Any]
    cfg: ResolvedConfig
    task: Any
    model: torch.nn.Module
    source: FairseqCheckpoint


def _values_for(config_class: type | None, options: dict[str, Any], what: str) -> dict[str, Any]:
    """The entries of ``options`` that are fields of ``config_class``, converted to the field's
    type (``None`` kept only where the field takes it)."""
    values = {}
    for field, tp in config_fields(config_class):
        if field.name not in options:
            continue
        try:
            values[field.name] = convert(tp, options[field.name])
        except ConversionError:
            if options[field.name] is None:
                continue  # fairseq's "unset": the seqcore default applies
            raise CheckpointError(
                f"{what}: fairseq option {field.name}={options[field.name]!r} does not fit "
                f"seqcore's --{field.name.replace('_', '-')}"
            ) from None
    return values


def import_fairseq(
    path: str, data: str | None = None, *, user_dirs: tuple[str, ...] = ()
) -> Imported:
    """The seqcore checkpoint state of fairseq checkpoint ``path``; ``data`` is the data folder
    whose dictionaries the model was trained with (default: the one fairseq saved)."""
    load_plugins(user_dirs)
    ckpt = read_fairseq_checkpoint(path)
    importer = importer_for_arch(ckpt.arch, path)
    problems = importer.unsupported(ckpt)
    if problems:
        raise CheckpointError(
            f"{path}: fairseq options that seqcore's {ckpt.arch} does not implement and that "
            f"change its outputs: {', '.join(problems)}"
        )
    if ckpt.task not in TASKS:
        raise CheckpointError(f"{path}: fairseq task {ckpt.task!r} is not available in seqcore")
    arch = importer.seqcore_arch(ckpt)
    if arch not in ARCHITECTURES:
        raise CheckpointError(
            f"{path}: seqcore architecture {arch!r} (for fairseq's {ckpt.arch!r}) is not "
            "installed; install the plug-in that provides it"
        )
    model_name = model_entry_for_arch(arch).name
    if ckpt.arch in ARCHITECTURES and model_entry_for_arch(ckpt.arch).name == model_name:
        arch = ckpt.arch  # the same named architecture (the saved options are complete anyway)
    criterion = ckpt.criterion if ckpt.criterion in CRITERIONS else _FALLBACK_CRITERION
    selections = {"task": ckpt.task, "arch": arch, "criterion": criterion}
    components, arch_entry = selected_components((TASK, ARCH, CRITERION), selections, [])
    explicit: dict[str, Any] = {}
    for component in components:
        if component.role == "task":
            options = {k: v for k, v in ckpt.task_options.items() if k in _TASK_OPTIONS}
            if data is not None:
                options["data"] = data
            explicit.update(_values_for(component.config_class, options, path))
        elif component.role == "criterion":
            options = {**ckpt.model_options, **ckpt.task_options}
            explicit.update(_values_for(component.config_class, options, path))
    model_component = next(c for c in components if c.role == "model")
    explicit.update(_values_for(model_component.config_class, importer.model_values(ckpt), path))
    try:
        configs = resolve(components, arch_entry, explicit)
    except SeqcoreError as e:
        raise CheckpointError(
            f"{path}: the fairseq options give no valid seqcore model ({e})"
        ) from None
    cfg = ResolvedConfig(selections, configs, {c.role: c.origin for c in components})
    data_folder = getattr(cfg.task, "data", None)
    if not data_folder or not os.path.isdir(str(data_folder).split(os.pathsep)[0]):
        raise CheckpointError(
            f"{path}: the data folder fairseq saved ({data_folder}) is not here; give the data "
            "folder the model was trained with (--data for import-fairseq, DATA for the others)"
        )
    task = TASKS.get(ckpt.task).obj.setup_task(cfg.task)
    weights = importer.import_weights(ckpt.state_dict, cfg.model)
    _check_vocabularies(task, weights, ckpt, data_folder)
    model = task.build_model(cfg.model)
    load_weights(model, weights, path)
    model.eval()
    state = {
        **provenance(cfg, task),
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "num_updates": ckpt.num_updates,
        "extra_state": {
            "imported_from": {"fairseq_checkpoint": os.path.abspath(path), "arch": ckpt.arch}
        },
    }
    return Imported(state, cfg, task, model, ckpt)


def _check_vocabularies(task: Any, weights: dict[str, Any], ckpt: FairseqCheckpoint, data: str):
    """The data folder's dictionaries must have as many symbols as the embeddings have rows."""
    for side, key in (
        ("source", "encoder.embed_tokens.weight"),
        ("target", "decoder.embed_tokens.weight"),
    ):
        dictionary = getattr(task, f"{side}_dictionary", None)
        if dictionary is None or key not in weights:
            continue
        rows = weights[key].shape[0]
        if rows != len(dictionary):
            raise CheckpointError(
                f"{ckpt.path}: the {side} dictionary of {data} has {len(dictionary)} symbols "
                f"but the checkpoint's {key.split('.')[0]} embeddings have {rows} rows; give the "
                "data folder the model was trained with"
            )


# -- export ------------------------------------------------------------------------------------


def export_fairseq(path: str, *, user_dirs: tuple[str, ...] = ()) -> dict[str, Any]:
    """A fairseq 0.12 checkpoint state (plain dicts and tensors) of seqcore checkpoint ``path``."""
    load_plugins(user_dirs)
    state = load_checkpoint_file(path)
    cfg = checkpoint_config(state, path, roles=("task", "model"))
    model_name = _model_name(cfg)
    importer = importer_for_model(model_name, path)
    arch = cfg.selections["arch"]
    model_section = importer.fairseq_model_options(model_name, arch, cfg.model)
    task_section = _fairseq_task_section(cfg)
    weights = importer.export_weights(state["model"], cfg.model)
    fairseq_cfg = {
        "_name": None,
        "common": {"_name": None, "seed": 1, "cpu": True, "fp16": False, "bf16": False},
        "model": model_section,
        "task": task_section,
        # the criterion only matters to training, which starts afresh in fairseq
        "criterion": {"_name": "cross_entropy", "sentence_avg": False},
        "optimizer": None,
        "lr_scheduler": None,
        "bpe": None,
        "tokenizer": None,
    }
    return {
        "args": None,
        "cfg": fairseq_cfg,
        "model": weights,
        "criterion": {},
        "optimizer_history": [
            {
                "criterion_name": "CrossEntropyCriterion",
                "optimizer_name": "seqcore",
                "lr_scheduler_state": {},
                "num_updates": int(state.get("num_updates", 0) or 0),
            }
        ],
        "task_state": {},
        "extra_state": {"train_iterator": None, "exported_by": f"seqcore {__version__}"},
        "last_optimizer_state": None,
    }


def _model_name(cfg: ResolvedConfig) -> str:
    return model_entry_for_arch(cfg.selections["arch"]).name


def _fairseq_task_section(cfg: ResolvedConfig) -> dict[str, Any]:
    task = dataclasses.asdict(cfg.task) if dataclasses.is_dataclass(cfg.task) else {}
    return task_section(cfg.selections["task"], task)


def write_imported(path: str, output: str, data: str | None = None) -> str:
    """``seqcore import-fairseq``: convert and write atomically; returns the line to print."""
    imported = import_fairseq(path, data)
    atomic_save(imported.state, output)
    n = sum(p.numel() for p in imported.model.parameters())
    return f"imported fairseq {imported.source.arch} ({n:,} parameters) from {path} into {output}"


def write_exported(path: str, output: str) -> str:
    """``seqcore export-fairseq``: convert and write atomically; returns the line to print."""
    state = export_fairseq(path)
    atomic_save(state, output)
    model = state["cfg"]["model"]
    arch = model["_name"] if isinstance(model, dict) else model._name
    return f"exported {path} as a fairseq 0.12 {arch} checkpoint to {output}"


def load_fairseq_ensemble(
    paths: list[str], data: str | None, overrides: dict[str, Any] | None = None
) -> tuple[list[torch.nn.Module], ResolvedConfig, Any]:
    """:func:`seqcore.checkpoint_utils.load_model_ensemble` where some of ``paths`` are fairseq
    checkpoints: each of those is imported in memory (said in one log line) and then built as
    its seqcore checkpoint would be, ``--model-overrides`` included; the task is the first
    checkpoint's."""
    models, first_cfg, task = [], None, None
    for path in paths:
        if looks_like_fairseq_checkpoint(path):
            imported = import_fairseq(path, data)
            _log.info(
                f"{path} is a fairseq checkpoint ({imported.source.arch}): imported in memory; "
                "'seqcore import-fairseq' converts it once and for all"
            )
            state = imported.state
            cfg, model = imported.cfg, imported.model
            if task is None:
                task = imported.task
        else:
            state, model = load_checkpoint_file(path), None
        if overrides or model is None:
            cfg = checkpoint_config(state, path, overrides, roles=INFERENCE_ROLES)
            if task is None:
                if data is not None and hasattr(cfg.task, "data"):
                    cfg.task.data = data
                task = TASKS.get(cfg.selections["task"]).obj.setup_task(cfg.task)
            model = task.build_model(cfg.model)
            load_weights(model, state["model"], path)
        check_dictionaries(state, task, path)
        first_cfg = first_cfg or cfg
        model.eval()
        models.append(model)
    return models, first_cfg, task
