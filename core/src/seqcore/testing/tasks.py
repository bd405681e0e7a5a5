"""Task checks: a task sets up from a data folder, loads its splits, batches them, and feeds the
model it builds."""

from __future__ import annotations

import os
from typing import Any

import torch

from seqcore.config import make_config
from seqcore.config.legacy import component_args
from seqcore.registry import TASKS
from seqcore.testing.components import entry
from seqcore.testing.contract import ContractError
from seqcore.testing.models import build_tiny_model


def check_task(
    name: str,
    data: str | os.PathLike,
    overrides: dict[str, Any] | None = None,
    arch: str | None = None,
    model_overrides: dict[str, Any] | None = None,
    splits: tuple[str, ...] = ("train", "valid"),
) -> None:
    """Checks of task ``name`` on the data folder ``data`` (``overrides``: its other config
    values): ``setup_task``, every split of ``splits`` loads non-empty, batches carry
    ``net_input``, ``target`` and ``ntokens``, and (with ``arch``) the model the task builds
    scores a batch with one row of logits per target token."""
    label = f"task {name!r}"
    found = entry(TASKS, name)
    cfg = make_config(found.config_class, name, {"data": str(data), **(overrides or {})})
    task = found.obj.setup_task(component_args(cfg))  # a Namespace for add_args
    for split in splits:
        task.load_dataset(split)
        dataset = task.dataset(split)
        if len(dataset) == 0:
            raise ContractError(
                label,
                f"load_dataset({split!r}) loads the split's examples",
                f"{split} is empty in {data}",
                "read the split's files from cfg.data into self.datasets[split]",
            )
        iterator = task.get_batch_iterator(dataset, max_tokens=1024, max_positions=None)
        sample = next(iter(iterator.next_epoch_itr(shuffle=False)))
        missing = [k for k in ("net_input", "target", "ntokens") if k not in sample]
        if missing:
            raise ContractError(
                label,
                "a batch holds net_input, target and ntokens (what criterions read)",
                f"the {split} batch lacks {', '.join(missing)}",
                "collate examples as seqcore.data's datasets do (their collater)",
            )
        if arch is None:
            continue
        model = build_tiny_model(arch, model_overrides, task=task).eval()
        with torch.no_grad():
            logits = model(**sample["net_input"])[0]
        expected = (*sample["target"].shape, len(task.target_dictionary))
        if tuple(logits.shape) != expected:
            raise ContractError(
                label,
                f"the model it builds scores every target token of a {split} batch",
                f"expected logits {expected}, got {tuple(logits.shape)}",
                "give net_input the arguments the model's forward takes and target the tokens "
                "to predict, one per position",
            )
