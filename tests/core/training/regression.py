"""A linear regression that drives the trainer in-process: a float64 ``Linear(3, 1)`` starting
at ``W0``, a summed squared error, and seeded batches, so that every update can be recomputed
by a formula in float64."""

from __future__ import annotations

import torch

from seqcore.cli.train import train_command
from seqcore.criterions import Criterion
from seqcore.tasks import Task
from seqcore.training import Trainer

W0 = [0.5, -0.25, 1.0]


class Regression(Task):
    def load_dataset(self, split, epoch=1, combine=False):
        raise AssertionError("not used")


class SquaredError(Criterion):
    """Summed squared error; the sample size is the number of rows. Its log says whether the
    loss was computed with gradients (``grad``)."""

    def forward(self, model, sample, reduce=True):
        loss = ((model(sample["x"]).squeeze(-1) - sample["y"]) ** 2).sum()
        return loss, len(sample["y"]), {"loss": loss.item(), "grad": loss.requires_grad}


def make_trainer(*flags: str) -> Trainer:
    """A trainer of SGD at lr 0.1 (``flags`` add or override ``seqcore train`` flags)."""
    args = ["DATA", "-a", "transformer", "--optimizer", "sgd", "--lr", "0.1", *flags]
    cfg = train_command.resolve_args(args)
    model = torch.nn.Linear(3, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([W0], dtype=torch.float64))
    return Trainer(cfg, Regression(cfg.task), model, SquaredError(None, None), torch.device("cpu"))


def batch(rows: int, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, 3, generator=gen, dtype=torch.float64)
    return {"x": x, "y": torch.randn(rows, generator=gen, dtype=torch.float64)}
