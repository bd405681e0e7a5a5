"""``seqcore plot``: loss curves of json training logs, several runs overlaid."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest import mock

import pytest
from support import run_cli

from seqcore.evaluation.curves import read_curves


def write_log(path: Path, lr_scale: float = 1.0) -> Path:
    lines = ["dictionary: 16 types", "some text line {not json"]
    for n in range(1, 7):
        record = {"kind": "train_inner", "epoch": 1 + n // 4, "num_updates": n}
        record.update(loss=10.0 - n, lr=0.1 * lr_scale * n, wps=100)
        lines.append(json.dumps(record))
        if n % 3 == 0:
            lines.append(
                json.dumps({"kind": "train", "epoch": n // 3, "num_updates": n, "loss": 1})
            )
            lines.append(
                json.dumps({"kind": "valid", "epoch": n // 3, "num_updates": n, "loss": 9.5 - n})
            )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_the_series(tmp_path: Path):
    curves = read_curves(write_log(tmp_path / "run.log"))
    assert curves.label == "run"
    assert curves.train_loss == [(n, 10.0 - n) for n in range(1, 7)]
    assert curves.valid_loss == [(3, 6.5), (6, 3.5)]
    assert [n for n, _ in curves.lr] == list(range(1, 7))
    assert [lr for _, lr in curves.lr] == pytest.approx([0.1 * n for n in range(1, 7)])


def test_epoch_records_where_there_are_no_inner_ones(tmp_path: Path):
    log = tmp_path / "epochs.log"
    log.write_text(
        json.dumps({"kind": "train", "epoch": 1, "num_updates": 5, "loss": 4.0, "lr": 0.5}) + "\n"
    )
    curves = read_curves(log)
    assert curves.train_loss == [(5, 4.0)] and curves.lr == [(5, 0.5)] and curves.valid_loss == []


def test_plot_writes_a_picture_of_several_runs(tmp_path: Path):
    pytest.importorskip("matplotlib")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_log(tmp_path / "a" / "train.log")
    b = write_log(tmp_path / "b" / "train.log", 2.0)
    out = tmp_path / "curves.png"
    result = run_cli("plot", str(a), str(b), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] > 400 and image.size[1] > 400


def test_a_run_of_one_log_interval_is_drawn_as_a_point(tmp_path: Path):
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    record = {"kind": "train_inner", "epoch": 1, "num_updates": 1, "loss": 9.0, "lr": 0.1}
    log = tmp_path / "train.log"
    log.write_text(json.dumps(record) + "\n")
    drawn = []
    real_plot = Axes.plot

    def spy(self, *args, **kwargs):
        lines = real_plot(self, *args, **kwargs)
        drawn.extend((line.get_label(), line.get_marker(), len(line.get_xdata())) for line in lines)
        return lines

    out = tmp_path / "curves.png"
    with mock.patch.object(Axes, "plot", spy):
        result = run_cli("plot", str(log), "-o", str(out))
    assert result.returncode == 0, result.stderr
    # one point each: a line alone would draw nothing, so each has a visible marker
    assert sorted(drawn) == [("train", "o", 1), ("train train", "o", 1)]


def test_missing_matplotlib_names_the_extra(tmp_path: Path):
    log = write_log(tmp_path / "run.log")
    with mock.patch.dict(sys.modules, {"matplotlib": None, "matplotlib.pyplot": None}):
        result = run_cli("plot", str(log), "-o", str(tmp_path / "c.png"))
    assert result.returncode == 1
    assert result.stderr == (
        "seqcore: error: seqcore plot needs matplotlib: pip install 'seqcore-toolkit[plot]'\n"
    )
    assert not (tmp_path / "c.png").exists()


def test_a_log_without_records_is_named(tmp_path: Path):
    log = tmp_path / "empty.log"
    log.write_text("hello\n")
    result = run_cli("plot", str(log), "-o", str(tmp_path / "c.png"))
    assert result.returncode == 1
    assert result.stderr == (
        f"seqcore: error: {log}: no loss records; plot reads a seqcore train --log-file, or the "
        "output of --log-format json\n"
    )


def test_an_unknown_picture_type_is_one_line(tmp_path: Path):
    pytest.importorskip("matplotlib")
    log = write_log(tmp_path / "run.log")
    out = tmp_path / "curves.xyz"
    result = run_cli("plot", str(log), "-o", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"seqcore: error: -o {out}: cannot write a picture of type")
    assert "png" in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()


def test_a_failed_write_leaves_the_earlier_picture(tmp_path: Path):
    pytest.importorskip("matplotlib")
    log = write_log(tmp_path / "run.log")
    out = tmp_path / "curves.png"
    out.write_bytes(b"the earlier picture")

    def fills_the_disk(self, fname, **kwargs):  # a part of the picture, then the disk is full
        Path(fname).write_bytes(b"\x89PNG part")
        raise OSError(28, "No space left on device")

    with mock.patch("matplotlib.figure.Figure.savefig", fills_the_disk):
        result = run_cli("plot", str(log), "-o", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith("seqcore: error: ") and str(out) in result.stderr
    assert result.stderr.count("\n") == 1
    assert out.read_bytes() == b"the earlier picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "run.log"]
