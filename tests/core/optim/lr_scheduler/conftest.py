"""Fixtures for scheduler tests: a real ``sgd`` wrapper, and a checker that a scheduler saved
mid-schedule and loaded into a fresh one continues exactly as the original."""

from __future__ import annotations

import copy

import pytest
import torch

from seqcore.config import make_config
from seqcore.optim.sgd import SGD, SGDConfig


def new_optimizer(lr: float = 0.25) -> SGD:
    param = torch.nn.Parameter(torch.zeros(2))
    return SGD(make_config(SGDConfig, "sgd", {"lr": [lr]}), [param])


def drive(scheduler, events) -> list[float]:
    """Apply events, returning the optimizer's learning rate after each one. An event is
    ``("epoch", k)`` (start of epoch k), ``("update", n)`` or ``("end", k, val_loss)``."""
    lrs = []
    for kind, *args in events:
        if kind == "epoch":
            returned = scheduler.step_begin_epoch(*args)
        elif kind == "update":
            returned = scheduler.step_update(*args)
        else:
            returned = scheduler.step(*args)
        assert returned == scheduler.optimizer.get_lr()
        lrs.append(scheduler.optimizer.get_lr())
    return lrs


def check_round_trip(scheduler_class, cfg, before, after) -> None:
    original = scheduler_class(cfg, new_optimizer())
    drive(original, before)
    state = copy.deepcopy(original.state_dict())
    restored = scheduler_class(cfg, new_optimizer())
    restored.load_state_dict(state)
    assert restored.optimizer.get_lr() == original.optimizer.get_lr()
    assert restored.best == original.best
    assert drive(restored, after) == drive(original, after)


@pytest.fixture
def make_optimizer():
    return new_optimizer


@pytest.fixture
def run_events():
    return drive


@pytest.fixture
def round_trip():
    return check_round_trip
