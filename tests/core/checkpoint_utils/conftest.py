"""A tiny transformer checkpoint written in-process as ``seqcore train`` writes one: its weights
beside the provenance of the configuration the train command resolves from its flags."""

from pathlib import Path

import pytest
import torch

from seqcore.checkpoint_utils import atomic_save, provenance
from seqcore.cli.train import train_command
from seqcore.registry import TASKS
from seqcore.testing.data import write_translation_data

TINY = ["-a", "transformer", "--encoder-layers", "1", "--decoder-layers", "1"]
TINY += ["--encoder-embed-dim", "8", "--decoder-embed-dim", "8", "--encoder-ffn-embed-dim", "16"]
TINY += ["--decoder-ffn-embed-dim", "16", "--encoder-attention-heads", "2"]
TINY += ["--decoder-attention-heads", "2", "--optimizer", "sgd", "--lr", "0.1"]
TINY += ["--max-tokens", "64", "--dropout", "0.25"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(checkpoint path, its state, the resolved config, the task, the model)."""
    root = tmp_path_factory.mktemp("checkpoint")
    data = write_translation_data(root / "data-bin")
    cfg = train_command.resolve_args([str(data), *TINY])
    task = TASKS.get(cfg.selections["task"]).obj.setup_task(cfg.task)
    model = task.build_model(cfg.model)
    state = {**provenance(cfg, task), "model": model.state_dict()}
    path = root / "checkpoint_last.pt"
    atomic_save(state, path)
    return path, state, cfg, task, model


@pytest.fixture
def copy(tmp_path):
    """Write a (changed) state to a file of its own in the test's folder."""

    def write(state: dict, name: str = "changed.pt") -> Path:
        path = tmp_path / name
        torch.save(state, path)
        return path

    return write
