"""Data-parallel training on torch.distributed, set up from torchrun's environment.

``torchrun --nproc_per_node N -m seqcore train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; seqcore then joins the process group (NCCL on CUDA, gloo on CPU) and wraps the
model in DistributedDataParallel. A plain ``seqcore train`` is a world of one.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from seqcore.errors import ConfigError, SeqcoreError

# what gloo and NCCL say when the process at the other end of a connection is gone
_PEER_GONE = (
    "Connection reset by peer",
    "Connection closed by peer",
    "Broken pipe",
    "Connection refused",
    "NCCL communicator was aborted",
)


class PeerLostError(SeqcoreError):
    """Another process of the group stopped (killed, crashed, or failed with its own error)."""


@dataclasses.dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_master(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_from_environment(device_type: str) -> DistributedContext:
    """Join the process group torchrun describes (once); a world of one without torchrun.

    On CUDA each process takes the GPU of its local rank, and the group has two backends:
    NCCL for CUDA tensors (DDP's gradients) and gloo for CPU ones (the logging outputs summed
    over ranks, plain numbers that need not go through a GPU), since NCCL refuses CPU
    tensors."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise ConfigError(
                f"torchrun started local rank {local_rank}, but this machine has {count} CUDA "
                f"device(s): start at most {count} processes per machine "
                f"(--nproc_per_node {count}), or train on the CPU with --device cpu"
            )
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        backend = "cpu:gloo,cuda:nccl" if device_type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistributedContext(rank, world_size, local_rank)


def peer_lost(ctx: DistributedContext, exc: BaseException) -> PeerLostError | None:
    """The one-line error for a collective that failed because another rank is gone (``None``
    when ``exc`` is something else). With two ranks the lost one is known: the other one."""
    text = str(exc)
    found = next((marker for marker in _PEER_GONE if marker in text), None)
    if not ctx.enabled or found is None:
        return None
    other = f"rank {1 - ctx.rank}" if ctx.world_size == 2 else "another rank"
    return PeerLostError(
        f"rank {ctx.rank} of {ctx.world_size} lost {other} ({found}): it stopped or was killed, "
        "see its own output; start all ranks again to resume from the last checkpoint"
    )


def wait_for_all(ctx: DistributedContext) -> None:
    """Return once every rank has called this (a world of one: at once). Called when training
    ends well, before :func:`shutdown`: a rank that tore down its connections while another
    was still in its last steps once aborted the other in gloo ("terminate called without an
    active exception", seen once in about 70 two-rank runs of the test suite)."""
    if ctx.enabled:
        dist.barrier()


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_logs(logs: list[dict[str, Any]], ctx: DistributedContext) -> list[dict[str, Any]]:
    """The logging outputs of all ranks, summed key by key into one (a world of one: as is)."""
    if not ctx.enabled:
        return logs
    local: dict[str, float] = {}
    for log in logs:
        for key, value in log.items():
            if isinstance(value, (int, float)) or torch.is_tensor(value):
                local[key] = local.get(key, 0.0) + float(value)
    keys: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(keys, sorted(local))
    all_keys = sorted(set().union(*keys))
    values = torch.tensor([local.get(k, 0.0) for k in all_keys], dtype=torch.float64)
    dist.all_reduce(values)
    return [dict(zip(all_keys, values.tolist()))]


def all_reduce_sum(value: float, ctx: DistributedContext) -> float:
    if not ctx.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item())


class ModelDDP(DistributedDataParallel):
    """DistributedDataParallel that forwards unknown attributes (``get_normalized_probs``,
    ``max_positions``, ...) to the wrapped model, so criterions use it like the model."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)
