"""The run loop called as a library (``seqcore.training.loop.train`` on a resolved config,
in-process): when it stops, which checkpoint is the best, and that a resumed run goes on exactly
where an uninterrupted one would be."""

from __future__ import annotations

import pytest
import torch
from support import TINY_TRANSFORMER, binarize_parallel, write_parallel_text

import seqcore
from seqcore.cli.train import train_command
from seqcore.loader import plugin_manager
from seqcore.training.loop import train


class Recorder:
    """Hook implementations noting the epochs, updates and validations of a run."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.updates: list[tuple[int, int]] = []  # (epoch, num_updates) after each update
        self.validations: list[tuple[int, int, float]] = []  # (epoch, num_updates, loss)

    @seqcore.hookimpl
    def seqcore_epoch_begin(self, trainer, epoch):
        self.epochs.append(epoch)

    @seqcore.hookimpl
    def seqcore_update_end(self, trainer, num_updates, log):
        self.updates.append((trainer.epoch, num_updates))

    @seqcore.hookimpl
    def seqcore_validation_end(self, trainer, epoch, num_updates, metrics):
        self.validations.append((epoch, num_updates, metrics["loss"]))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run fastest on one thread; torch's default of one per core is 5-10 times
    slower on a machine whose cores are busy (measured: 11 s against 1.3 s for 3 epochs)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small_bin(tmp_path_factory):
    """A reversal task small enough for a few whole epochs: 20 sentences, 4 to validate on."""
    root = tmp_path_factory.mktemp("small")
    return binarize_parallel(write_parallel_text(root / "text", 20, 4, seed=3), root / "bin")


@pytest.fixture
def recorder():
    rec = Recorder()
    plugin_manager().register(rec)
    yield rec
    plugin_manager().unregister(rec)


def run(data_bin, save_dir, *flags: str) -> dict:
    args = [str(data_bin), *TINY_TRANSFORMER, "--save-dir", str(save_dir), "--device", "cpu"]
    return train(train_command.resolve_args([*args, *flags]))


def load(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_max_update_stops_after_exactly_that_many_updates(small_bin, tmp_path, recorder):
    result = run(small_bin, tmp_path / "ck", "--max-update", "5")
    assert result["num_updates"] == 5
    assert [n for _, n in recorder.updates] == [1, 2, 3, 4, 5]
    assert len(recorder.epochs) > 1  # an epoch of this data has fewer than 5 updates
    assert load(tmp_path / "ck" / "checkpoint_last.pt")["num_updates"] == 5


def test_max_epoch_trains_whole_epochs_and_saves_one_checkpoint_each(small_bin, tmp_path,
                                                                     recorder):  # fmt: skip
    result = run(small_bin, tmp_path / "ck", "--max-epoch", "2")
    assert recorder.epochs == [1, 2]
    per_epoch = sum(1 for epoch, _ in recorder.updates if epoch == 1)
    assert per_epoch > 1 and result["num_updates"] == 2 * per_epoch
    names = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert names == ["checkpoint1.pt", "checkpoint2.pt", "checkpoint_best.pt",
                     "checkpoint_last.pt"]  # fmt: skip
    assert load(tmp_path / "ck" / "checkpoint1.pt")["num_updates"] == per_epoch
    assert [(e, n) for e, n, _ in recorder.validations] == [(1, per_epoch), (2, 2 * per_epoch)]


@pytest.mark.parametrize("maximize", [False, True])
def test_the_best_checkpoint_is_the_validation_with_the_best_loss(small_bin, tmp_path, recorder,
                                                                  maximize):  # fmt: skip
    flags = ["--max-epoch", "3"] + (["--maximize-best-checkpoint-metric"] if maximize else [])
    result = run(small_bin, tmp_path / "ck", *flags)
    losses = [loss for _, _, loss in recorder.validations]
    pick = max if maximize else min
    best_epoch, best_updates, best_loss = pick(recorder.validations, key=lambda v: v[2])
    assert len(set(losses)) == 3 and result["best"] == pytest.approx(best_loss)
    best = load(tmp_path / "ck" / "checkpoint_best.pt")
    assert best["num_updates"] == best_updates
    epoch_file = load(tmp_path / "ck" / f"checkpoint{best_epoch}.pt")
    for name, tensor in epoch_file["model"].items():
        assert torch.equal(best["model"][name], tensor), name


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(small_bin, tmp_path):
    straight = run(small_bin, tmp_path / "a", "--max-epoch", "2")
    first = run(small_bin, tmp_path / "b", "--max-epoch", "1")
    resumed = run(small_bin, tmp_path / "b", "--max-epoch", "2")
    assert first["num_updates"] < resumed["num_updates"] == straight["num_updates"]
    a, b = load(tmp_path / "a" / "checkpoint_last.pt"), load(tmp_path / "b" / "checkpoint_last.pt")
    assert a["model"].keys() == b["model"].keys()
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert resumed["best"] == straight["best"]


def test_a_run_past_its_limits_trains_nothing_more(small_bin, tmp_path, recorder):
    run(small_bin, tmp_path / "ck", "--max-update", "3")
    recorder.updates.clear()
    result = run(small_bin, tmp_path / "ck", "--max-update", "3")
    assert result["num_updates"] == 3 and recorder.updates == []
