"""The plug-in base classes follow one rule: an ``abc.ABC`` exactly when every subclass must
write a method, and that method is abstract (docs/plugins/README.md says the same)."""

from __future__ import annotations

import abc

import pytest

from seqcore.criterions import Criterion
from seqcore.models import BaseModel, Decoder, Encoder
from seqcore.optim import Optimizer
from seqcore.optim.lr_scheduler import LRScheduler
from seqcore.tasks import Task

MUST_WRITE = {
    Encoder: {"forward"},
    Decoder: {"forward"},
    Criterion: {"forward"},
    Task: {"load_dataset"},
    BaseModel: set(),
    Optimizer: set(),
    LRScheduler: set(),
}


@pytest.mark.parametrize("base", list(MUST_WRITE), ids=lambda c: c.__name__)
def test_abstract_exactly_where_a_subclass_must_write_a_method(base):
    assert set(getattr(base, "__abstractmethods__", ())) == MUST_WRITE[base]
    assert issubclass(base, abc.ABC) == bool(MUST_WRITE[base])
