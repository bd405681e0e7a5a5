"""The run loop in-process (``seqcore train`` through :func:`support.run_cli`): what hooks see
of the trainer at each moment, and what the run writes."""

from __future__ import annotations

import pytest
from support import TINY_TRANSFORMER, json_records, run_cli

import seqcore
from seqcore.loader import plugin_manager


class Recorder:
    """Hook implementations that note what the trainer says at each call."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @seqcore.hookimpl
    def seqcore_train_begin(self, trainer):
        self.calls.append(("begin", trainer.epoch, trainer.num_updates, trainer.is_master))

    @seqcore.hookimpl
    def seqcore_epoch_begin(self, trainer, epoch):
        self.calls.append(("epoch", epoch, trainer.epoch, trainer.num_updates))

    @seqcore.hookimpl
    def seqcore_checkpoint_saved(self, trainer, path):
        assert path.startswith(trainer.save_dir)
        self.calls.append(("saved", trainer.epoch, path.rsplit("/", 1)[-1]))

    @seqcore.hookimpl
    def seqcore_train_end(self, trainer):
        self.calls.append(("end", trainer.epoch, trainer.num_updates))


@pytest.fixture
def recorder():
    rec = Recorder()
    plugin_manager().register(rec)
    yield rec
    plugin_manager().unregister(rec)


def train(data_bin, save_dir, *extra):
    result = run_cli("train", str(data_bin), *TINY_TRANSFORMER, "--save-dir", str(save_dir), *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_hooks_see_the_epoch_and_updates_of_the_run(data_bin, tmp_path, recorder):
    result = train(data_bin, tmp_path / "ck", "--max-epoch", "2", "--device", "cpu")
    updates = [r for r in json_records(result, "train_inner")]
    per_epoch = {r["epoch"] for r in updates}
    assert per_epoch == {1, 2}
    kinds = [c[0] for c in recorder.calls]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert recorder.calls[0] == ("begin", 1, 0, True)
    epochs = [c for c in recorder.calls if c[0] == "epoch"]
    assert [(e[1], e[2]) for e in epochs] == [(1, 1), (2, 2)]
    assert epochs[1][3] > 0  # updates made in epoch 1
    saved = [c for c in recorder.calls if c[0] == "saved"]
    assert ("saved", 1, "checkpoint1.pt") in saved and ("saved", 2, "checkpoint2.pt") in saved
    assert recorder.calls[-1][1] == 2


def test_a_resumed_run_tells_hooks_the_epoch_it_goes_on_with(data_bin, tmp_path, recorder):
    train(data_bin, tmp_path / "ck", "--max-epoch", "1", "--device", "cpu")
    recorder.calls.clear()
    train(data_bin, tmp_path / "ck", "--max-epoch", "2", "--device", "cpu")
    assert recorder.calls[0][:2] == ("begin", 2)
    assert recorder.calls[0][2] > 0


def test_colon_separated_data_with_another_train_subset_moves_on_to_the_next_folder(tmp_path):
    """``DATA=a:b --train-subset mytrain``: epoch 2 trains on b (it used to stay on a)."""
    from support import binarize_parallel, write_parallel_text

    folders = []
    for name, seed in (("a", 0), ("b", 1)):
        folder = binarize_parallel(
            write_parallel_text(tmp_path / f"{name}-text", seed=seed), tmp_path / name
        )
        for path in folder.glob("train.*"):
            path.rename(folder / ("my" + path.name))
        folders.append(folder)
    data = ":".join(str(f) for f in folders)
    result = run_cli(
        "train", data, *TINY_TRANSFORMER, "--save-dir", str(tmp_path / "ck"),
        "--train-subset", "mytrain", "--max-epoch", "2", "--device", "cpu", "--no-save",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = [line for line in result.stderr.splitlines() if " mytrain src-tgt " in line]
    # epoch 1 from a, epoch 2 from b (and, as fairseq, the next epoch's folder before the loop
    # sees that --max-epoch is reached)
    assert [line.split()[0] for line in loaded[:2]] == [str(folders[0]), str(folders[1])]
