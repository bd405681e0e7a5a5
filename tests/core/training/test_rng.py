"""The random generators' states that checkpoints hold: restored exactly, and a run saved with
more GPUs than the resuming machine has restores the generators of the GPUs there are."""

import random

import numpy as np
import torch

from seqcore.training import rng


def test_the_states_restore_every_generator_exactly():
    torch.manual_seed(3)
    np.random.seed(4)
    random.seed(5)
    saved = rng.rng_state()
    expected = (torch.rand(4), np.random.rand(4), [random.random() for _ in range(4)])
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    rng.set_rng_state(saved)
    assert torch.equal(torch.rand(4), expected[0])
    assert np.array_equal(np.random.rand(4), expected[1])
    assert [random.random() for _ in range(4)] == expected[2]


def test_cuda_states_of_more_gpus_than_there_are_restore_those_there_are(monkeypatch):
    restored = []
    monkeypatch.setattr(rng.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(rng.torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(
        rng.torch.cuda, "set_rng_state", lambda state, device: restored.append((state, device))
    )
    state = {
        "torch": torch.get_rng_state(),
        "numpy": rng.rng_state()["numpy"],
        "python": random.getstate(),
        "cuda": ["gpu0", "gpu1", "gpu2", "gpu3"],  # saved by a run on a machine with 4 GPUs
    }
    rng.set_rng_state(state)
    assert restored == [("gpu0", 0), ("gpu1", 1)]
