"""The order of the figures on a log line: fairseq's (loss figures, throughput, lr, gnorm), a
task's own after them by name, the best-so-far figures last. ``--log-file`` gets every report as
a JSON record whatever the console's format."""

import json

import pytest

from seqcore.evaluation.curves import read_curves
from seqcore.training.progress import Progress


def test_simple_line_order(capsys):
    metrics = {"best_bleu": 3.0, "bleu": 2.5, "zz": 1.0, "wpb": 10.0, "loss": 2.0, "ppl": 4.0}
    Progress("simple").report("valid", 2, 7, metrics)
    assert capsys.readouterr().out == (
        "valid | epoch 002 | num_updates 7 | loss 2.000 | ppl 4.000 | wpb 10 | bleu 2.500 | "
        "zz 1.000 | best_bleu 3.000\n"
    )


@pytest.mark.parametrize("log_format", ["tqdm", "simple", "json", "none"])
def test_log_file_gets_every_report_as_a_json_record(tmp_path, capsys, log_format):
    # whatever the console shows (a bar included), the file holds the records seqcore plot reads
    log = tmp_path / "train.log"
    progress = Progress(log_format, log_file=str(log))
    for n in progress.bar(range(1, 5), epoch=1, total=4):
        progress.report("train_inner", 1, n, {"loss": 10.0 - n, "lr": 0.1 * n})
    progress.close_bar()
    progress.report("train", 1, 4, {"loss": 7.0, "lr": 0.4})
    progress.report("valid", 1, 4, {"loss": 6.5})
    progress.message("done training")
    progress.close()
    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(r["kind"], r["num_updates"]) for r in records] == [
        *(("train_inner", n) for n in range(1, 5)),
        ("train", 4),
        ("valid", 4),
    ]
    assert records[0] == {
        "kind": "train_inner",
        "epoch": 1,
        "num_updates": 1,
        "loss": 9.0,
        "lr": 0.1,
    }
    assert lines[-1] == "done training"
    curves = read_curves(log)
    assert curves.train_loss == [(n, 10.0 - n) for n in range(1, 5)]
    assert curves.valid_loss == [(4, 6.5)]
    out = capsys.readouterr().out
    if log_format == "json":
        assert out.splitlines() == [line for line in lines if line.startswith("{")]
    else:  # the console keeps its own format
        assert "{" not in out
        assert "valid | epoch 001 | num_updates 4 | loss 6.500" in out
