"""A training run that cannot make progress stops at once with one line saying why, instead of
looping over empty epochs (each saving a checkpoint) until the disk is full."""

from __future__ import annotations

import pytest
from faults.conftest import TINY, error_line, seqcore


@pytest.fixture
def empty_train(tmp_path, capsys):
    text = tmp_path / "text"
    text.mkdir()
    for lang in ("src", "tgt"):
        (text / f"train.{lang}").write_text("")
        (text / f"valid.{lang}").write_text("a b c\n")
    data = tmp_path / "data-bin"
    status, out, _ = seqcore(capsys, "preprocess", "-s", "src", "-t", "tgt", "--trainpref",
                             text / "train", "--srcdict", _dict(tmp_path), "--tgtdict",
                             _dict(tmp_path), "--destdir", data)  # fmt: skip
    assert status == 0 and "0 sents" in out
    return data


def _dict(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("a 1\nb 1\nc 1\n")
    return path


@pytest.mark.parametrize("limit", [["--max-update", "4"], ["--max-epoch", "3"]])
def test_an_empty_training_split_stops_at_once(empty_train, tmp_path, capsys, limit):
    save_dir = tmp_path / "ck"
    status, _, err = seqcore(capsys, "train", empty_train, *TINY, "--save-dir", save_dir, *limit)
    assert status == 1
    assert error_line(err) == (
        f"seqcore: error: --train-subset train of {empty_train} is empty (0 examples): nothing "
        "to train on; preprocess a --trainpref with sentences in it"
    )
    assert list(save_dir.iterdir()) == []


def test_a_training_split_left_without_batches_names_the_filter(
    data_bin, tmp_path, capsys, monkeypatch
):
    """Train refuses an example longer than the max positions (a one-line error of its own), so
    a split emptied by the filter cannot be reached from the command line today: the batch
    iterator is emptied here as the filter would, to check the message that names it."""
    from seqcore.training import loop

    real = loop.TrainingRun._train_iterator

    def filtered_away(self, epoch):
        itr = real(self, epoch)
        itr.frozen_batches = ()
        return itr

    monkeypatch.setattr(loop.TrainingRun, "_train_iterator", filtered_away)
    save_dir = tmp_path / "ck"
    status, _, err = seqcore(capsys, "train", data_bin, *TINY, "--save-dir", save_dir,
                             "--max-update", "4")  # fmt: skip
    assert status == 1
    assert error_line(err).startswith(
        f"seqcore: error: --train-subset train of {data_bin}: none of its 32 examples is left "
        "after filtering by the max positions (1024, 1024)"
    )
    assert list(save_dir.iterdir()) == []
