"""The smaller faults: what a few mistakes print, and what they leave behind."""

from __future__ import annotations

from faults.conftest import TINY, error_line, seqcore


def test_a_data_argument_that_is_a_file_is_called_a_file(data_bin, tmp_path, capsys):
    not_a_folder = data_bin / "dict.src.txt"
    status, _, err = seqcore(capsys, "train", not_a_folder, *TINY, "--save-dir", tmp_path / "ck")
    assert status == 1
    assert error_line(err) == (
        f"seqcore: error: data folder {not_a_folder} is a file, not a folder (DATA is the "
        "folder seqcore preprocess wrote, with the dict.*.txt files)"
    )


def test_an_unknown_gen_subset_leaves_no_results_file(data_bin, trained, tmp_path, capsys):
    out = tmp_path / "out"
    status, _, err = seqcore(capsys, "generate", data_bin, "--path", trained / "checkpoint1.pt",
                             "--gen-subset", "nosuch", "--results-path", out)  # fmt: skip
    assert status == 1
    assert "no nosuch data" in error_line(err)
    assert list(out.iterdir()) == []


def test_only_source_without_a_language_names_its_side_text(text_dir, tmp_path, capsys):
    status, out, _ = seqcore(capsys, "preprocess", "--only-source", "--trainpref",
                             text_dir / "train.src", "--destdir", tmp_path / "lm")  # fmt: skip
    assert status == 0
    assert "[None]" not in out
    assert "[text] Dictionary: " in out


def test_training_state_that_does_not_fit_is_one_line(data_bin, trained, tmp_path, capsys):
    import torch

    state = torch.load(trained / "checkpoint_last.pt", weights_only=True)
    state["optimizer"] = {"state": {}, "param_groups": [{"params": [0]}]}  # one group of one
    bad = tmp_path / "bad-optimizer.pt"
    torch.save(state, bad)
    argv = ["train", data_bin, *TINY, "--save-dir", tmp_path / "ck", "--max-update", "9"]
    status, _, err = seqcore(capsys, *argv, "--restore-file", bad)
    assert status == 1
    line = error_line(err)
    assert line.startswith(f"seqcore: error: {bad}: its optimizer or schedule state does not fit")
    assert line.endswith("add --reset-optimizer to start them afresh")
    assert list((tmp_path / "ck").iterdir()) == []
    status, _, err = seqcore(capsys, *argv, "--restore-file", bad, "--reset-optimizer")
    assert status == 0, err


def test_the_next_run_removes_what_killed_runs_left_and_says_so(
    data_bin, text_dir, trained, tmp_path, capsys
):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(gone.stdout)
    dest, out = tmp_path / "data-bin", tmp_path / "out"
    (dest / f".preprocess-{pid}-x1y2z3").mkdir(parents=True)
    (dest / f".preprocess-{pid}-x1y2z3" / "train.src-tgt.src.bin").write_bytes(b"\0" * 5000)
    out.mkdir()
    (out / f".generate-test.txt.tmp-{pid}").write_text("H-0\t-1.0\tw1\n")
    status, _, err = seqcore(capsys, "preprocess", "-s", "src", "-t", "tgt", "--trainpref",
                             text_dir / "train", "--destdir", dest)  # fmt: skip
    assert status == 0, err
    assert f"removed 1 leftover(s) of earlier runs that were killed (4.9 KiB) from {dest}: " \
           f".preprocess-{pid}-x1y2z3" in err  # fmt: skip
    assert not any(p.name.startswith(".") for p in dest.iterdir())
    status, _, err = seqcore(capsys, "generate", data_bin, "--path", trained / "checkpoint1.pt",
                             "--results-path", out, "--max-len-b", "3")  # fmt: skip
    assert status == 0, err
    assert f"from {out}: .generate-test.txt.tmp-{pid}" in err
    assert [p.name for p in out.iterdir()] == ["generate-test.txt"]


def test_a_data_position_that_does_not_fit_is_one_line(data_bin, trained, tmp_path, capsys):
    import torch

    state = torch.load(trained / "checkpoint_last.pt", weights_only=True)
    state["extra_state"]["train_iterator"] = {"epoch": "one"}
    bad = tmp_path / "bad-position.pt"
    torch.save(state, bad)
    argv = ["train", data_bin, *TINY, "--save-dir", tmp_path / "ck", "--max-update", "9"]
    status, _, err = seqcore(capsys, *argv, "--restore-file", bad)
    assert status == 1
    assert error_line(err).startswith(f"seqcore: error: {bad}: its data position does not fit")
    assert list((tmp_path / "ck").iterdir()) == []
