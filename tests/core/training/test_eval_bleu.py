"""seqcore train --eval-bleu: the validation's BLEU is what `seqcore generate` reports for the
same checkpoint and search (with --eval-bleu-detok moses, generate's --tokenizer moses), and it
can pick checkpoint_best."""

import re

import pytest
from support import TINY_TRANSFORMER as TINY
from support import (
    binarize_parallel,
    json_records,
    run_cli,
    train_tiny,
    write_parallel_text,
)

from seqcore.checkpoint_utils import load_checkpoint_file

SEARCH = ["--beam", "2", "--max-len-a", "1.2", "--max-len-b", "10"]
EVAL_BLEU = [
    "--eval-bleu",
    "--eval-bleu-args",
    '{"beam": 2, "max_len_a": 1.2, "max_len_b": 10}',
    "--best-checkpoint-metric",
    "bleu",
    "--maximize-best-checkpoint-metric",
]


def test_validation_bleu_is_generates_bleu_and_picks_the_best(data_bin, tmp_path):
    ck = tmp_path / "ck"
    result = train_tiny(data_bin, ck, "--lr", "0.01", "--max-epoch", "12", *EVAL_BLEU)
    valid = json_records(result, "valid")
    assert len(valid) == 12
    scores = [r["bleu"] for r in valid]
    assert max(scores) > 5  # the reversal is being learnt
    assert [r["best_bleu"] for r in valid] == [max(scores[: i + 1]) for i in range(12)]
    assert load_checkpoint_file(ck / "checkpoint_best.pt")["extra_state"]["best"] == max(scores)

    generated = run_cli(
        "generate", str(data_bin), "--path", str(ck / "checkpoint_last.pt"),
        "--gen-subset", "valid", "--max-tokens", "64", *SEARCH,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    bleu = re.search(r"BLEU = ([\d.]+)", generated.stdout + generated.stderr)
    assert float(bleu.group(1)) == scores[-1]


def test_a_metric_the_validation_does_not_report(data_bin, tmp_path):
    ck = tmp_path / "ck"
    result = run_cli(
        "train", str(data_bin), *TINY, "--save-dir", str(ck), "--max-epoch", "1",
        "--best-checkpoint-metric", "bleu",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "seqcore: error: --best-checkpoint-metric bleu: the validation reports no such metric "
        "(it reports bsz, loss, nll_loss, nsentences, ntokens, ppl, sample_size, wpb, wps); add "
        "--eval-bleu to compute BLEU"
    )
    assert not list(ck.glob("*.pt"))


MOSES_WORDS = ["it", "&apos;s", "well", "@-@", "known", ",", ".", "&amp;", "(", ")", "don", "a"]


def test_moses_detokenized_validation_bleu_is_generates_with_tokenizer_moses(tmp_path):
    sacrebleu = pytest.importorskip("sacrebleu")
    pytest.importorskip("sacremoses")
    text = write_parallel_text(tmp_path / "text", n_train=96, words=MOSES_WORDS)
    data_bin = binarize_parallel(text, tmp_path / "data-bin")
    ck = tmp_path / "ck"
    detok = [*EVAL_BLEU, "--eval-bleu-detok", "moses"]
    result = train_tiny(data_bin, ck, "--lr", "0.01", "--max-epoch", "10", *detok)
    scores = [r["bleu"] for r in json_records(result, "valid")]
    assert scores[-1] > 5

    generated = run_cli(
        "generate", str(data_bin), "--path", str(ck / "checkpoint_last.pt"),
        "--gen-subset", "valid", "--max-tokens", "64", "--tokenizer", "moses", *SEARCH,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    bleu = re.search(r"BLEU = ([\d.]+)", generated.stdout)
    assert float(bleu.group(1)) == scores[-1]
    # the detokenization counts: BLEU of the Moses tokens themselves is another figure
    lines = generated.stdout.splitlines()
    hyps = {ln.split("\t")[0][2:]: ln.split("\t")[2] for ln in lines if ln.startswith("H-")}
    refs = (text / "valid.tgt").read_text().splitlines()
    ids = sorted(hyps, key=int)
    tokens_bleu = sacrebleu.corpus_bleu([hyps[i] for i in ids], [[refs[int(i)] for i in ids]])
    assert round(tokens_bleu.score, 2) != scores[-1]
