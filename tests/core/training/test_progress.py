"""The order of the figures on a log line: fairseq's (loss figures, throughput, lr, gnorm), a
task's own after them by name, the best-so-far figures last."""

from seqcore.training.progress import Progress


def test_simple_line_order(capsys):
    metrics = {"best_bleu": 3.0, "bleu": 2.5, "zz": 1.0, "wpb": 10.0, "loss": 2.0, "ppl": 4.0}
    Progress("simple").report("valid", 2, 7, metrics)
    assert capsys.readouterr().out == (
        "valid | epoch 002 | num_updates 7 | loss 2.000 | ppl 4.000 | wpb 10 | bleu 2.500 | "
        "zz 1.000 | best_bleu 3.000\n"
    )
