"""What hooks may read of the trainer: typed on ``seqcore.training.Trainer``, named in the
hook specifications, and there on a trainer built in-process."""

from __future__ import annotations

import inspect
import re

import torch

from seqcore import hookspecs
from seqcore.cli.train import train_command
from seqcore.optim import Optimizer
from seqcore.optim.lr_scheduler import LRScheduler
from seqcore.training import Trainer

# the attributes the hookspecs' docstring promises (``trainer.x``)
PROMISED = sorted(set(re.findall(r"``trainer\.(\w+)", hookspecs.__doc__)))


def test_the_training_hooks_take_a_typed_trainer():
    specs = [fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)]
    with_trainer = [fn for fn in specs if "trainer" in inspect.signature(fn).parameters]
    assert len(with_trainer) == 6
    for fn in with_trainer:
        assert inspect.signature(fn).parameters["trainer"].annotation == "Trainer", fn.__name__


def test_every_promised_attribute_is_documented_on_the_trainer_class():
    assert set(PROMISED) >= {
        "cfg", "task", "model", "criterion", "optimizer", "lr_scheduler",
        "epoch", "num_updates", "save_dir", "device", "is_master",
    }  # fmt: skip
    for name in PROMISED:
        documented = name in Trainer.__annotations__ or isinstance(
            getattr(Trainer, name, None), property
        )
        assert documented, name


def test_a_built_trainer_has_them(tmp_path):
    cfg = train_command.resolve_args(
        ["DATA", "-a", "transformer", "--optimizer", "sgd", "--save-dir", str(tmp_path)]
    )
    model = torch.nn.Linear(3, 2)
    trainer = Trainer(cfg, None, model, torch.nn.Module(), torch.device("cpu"))
    assert trainer.cfg is cfg and trainer.model is model
    assert isinstance(trainer.optimizer, Optimizer)
    assert isinstance(trainer.lr_scheduler, LRScheduler)
    assert (trainer.epoch, trainer.num_updates) == (1, 0)
    assert trainer.save_dir == str(tmp_path)
    assert trainer.device == torch.device("cpu") and trainer.is_master is True
    for name in PROMISED:
        getattr(trainer, name)
