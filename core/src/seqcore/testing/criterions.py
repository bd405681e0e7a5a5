"""Criterion checks: what the trainer and the logs rely on a criterion to return."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from seqcore.config import make_config
from seqcore.config.legacy import component_args
from seqcore.models import EncoderDecoderModel
from seqcore.registry import CRITERIONS
from seqcore.testing.components import entry
from seqcore.testing.contract import ContractError
from seqcore.testing.models import build_tiny_model
from seqcore.testing.tiny import TinyTask, lm_batch, translation_batch


def _build(name: str, values: dict[str, Any]) -> Any:
    found = entry(CRITERIONS, name)
    cfg = component_args(make_config(found.config_class, name, values))  # Namespace: add_args
    return found.obj(cfg, TinyTask())


def _forward(label: str, criterion: Any, model: Any, sample: dict) -> tuple[Any, Any, dict]:
    out = criterion(model, sample)
    if not (isinstance(out, tuple) and len(out) == 3 and isinstance(out[2], dict)):
        raise ContractError(
            label,
            "forward(model, sample) returns (loss, sample_size, logging_output)",
            f"it returned {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, tuple) else ""),
            "return the summed loss tensor, the number the gradient is divided by, and a dict "
            "of plain numbers to log",
        )
    return out


def check_criterion(
    name: str,
    arch: str = "",
    overrides: dict[str, Any] | None = None,
    model_overrides: dict[str, Any] | None = None,
) -> None:
    """Checks of criterion ``name`` (config ``overrides``) on the tiny model of ``arch``: the
    returned triple, a finite scalar loss with a gradient, logs that reduce across workers, and
    ``--sentence-avg`` (where the config has it) choosing the sample size."""
    label = f"criterion {name!r}"
    model = build_tiny_model(arch, model_overrides)
    task = TinyTask()
    sample = translation_batch(task) if isinstance(model, EncoderDecoderModel) else lm_batch(task)
    values = dict(overrides or {})
    criterion = _build(name, values)
    model.train()
    loss, sample_size, log = _forward(label, criterion, model, sample)
    if not (isinstance(loss, torch.Tensor) and loss.numel() == 1):
        raise ContractError(
            label,
            "the loss is a scalar tensor (summed over the batch)",
            f"got {getattr(loss, 'shape', type(loss).__name__)}",
            "sum the per-token losses with reduce=True",
        )
    if not torch.isfinite(loss).all():
        raise ContractError(
            label,
            "the loss is finite on a well-formed batch",
            f"loss is {float(loss.detach())}",
            "guard logs and divisions (padding positions, empty targets, log of 0)",
        )
    if not loss.requires_grad:
        raise ContractError(
            label,
            "the loss has a gradient",
            "loss.requires_grad is False",
            "compute the loss from the model's output without detaching it",
        )
    for key, value in log.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ContractError(
                label,
                "logging_output holds plain numbers (they are summed across workers)",
                f"{key!r} is {type(value).__name__}",
                f"log float(...) or int(...) of {key!r}, not a tensor",
            )
    reduced = type(criterion).reduce_metrics([log, log])
    single = type(criterion).reduce_metrics([log])
    for key, value in single.items():
        if key in reduced and isinstance(value, float) and math.isfinite(value):
            per_worker = key in ("loss", "nll_loss", "ppl")
            if per_worker and not math.isclose(reduced[key], value, rel_tol=1e-6, abs_tol=1e-9):
                raise ContractError(
                    label,
                    "reduce_metrics of two workers' identical logs reports what one reports",
                    f"{key} is {value} for one log and {reduced[key]} for two",
                    f"divide the summed {key!r} by the summed sample_size (or ntokens) in "
                    "reduce_metrics",
                )
    fields = (
        {f.name for f in dataclasses.fields(criterion.cfg)}
        if dataclasses.is_dataclass(criterion.cfg)
        else set()
    )
    if "sentence_avg" in fields:
        for sentence_avg, expected, what in [
            (True, sample["nsentences"], "sentences"),
            (False, sample["ntokens"], "target tokens"),
        ]:
            crit = _build(name, {**values, "sentence_avg": sentence_avg})
            got = _forward(label, crit, model, sample)[1]
            if got != expected:
                raise ContractError(
                    label,
                    f"with sentence_avg={sentence_avg}, sample_size is the number of {what}",
                    f"expected {expected}, got {got}",
                    "return sample['nsentences'] under --sentence-avg and sample['ntokens'] "
                    "otherwise",
                )
