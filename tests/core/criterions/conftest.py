"""Fixtures: a model returning fixed random logits, a task with a target dictionary, a batch."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from seqcore.models.base import BaseModel

PAD = 1


class PadOnlyDictionary:
    """Stand-in for ``seqcore.data.Dictionary``: criterions only call ``pad()``."""

    def pad(self) -> int:
        return PAD


class FakeTask:
    target_dictionary = PadOnlyDictionary()


class FixedLogitsModel(BaseModel):
    """Returns its ``logits`` parameter (B x T x V) whatever the input."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits.clone())

    def forward(self, src_tokens: torch.Tensor, src_lengths: torch.Tensor, **kwargs: Any):
        return self.logits, None


def build_batch(
    batch: int = 3, length: int = 5, vocab: int = 11, seed: int = 0
) -> tuple[FixedLogitsModel, dict[str, Any]]:
    """A model and a sample whose targets avoid the pad symbol, right-padded: sentence ``i``
    ends with ``i`` pads."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, length, vocab, generator=gen) * 2
    target = torch.randint(PAD + 1, vocab, (batch, length), generator=gen)
    for i in range(batch):
        target[i, length - i :] = PAD
    sample = {
        "id": torch.arange(batch),
        "nsentences": batch,
        "ntokens": int(target.ne(PAD).sum()),
        "net_input": {
            "src_tokens": torch.zeros(batch, 2, dtype=torch.long),
            "src_lengths": torch.full((batch,), 2),
            "prev_output_tokens": target.clone(),
        },
        "target": target,
    }
    return FixedLogitsModel(logits), sample


@pytest.fixture
def task() -> FakeTask:
    return FakeTask()


@pytest.fixture
def make_batch():
    return build_batch
