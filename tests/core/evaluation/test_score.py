"""`seqcore score`: BLEU of files against an independent BLEU and sacrebleu."""

from __future__ import annotations

import random

import pytest
import sacrebleu
from core.evaluation.helpers import WORDS, fairseq_format, reference_bleu
from support import run_cli


@pytest.fixture
def files(tmp_path):
    rng = random.Random(5)
    refs, hyps = [], []
    for _ in range(30):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(3, 9))]
        hyp = [w if rng.random() < 0.7 else rng.choice(WORDS) for w in ref]
        if rng.random() < 0.3:
            hyp = hyp[:-1]
        refs.append(" ".join(ref))
        hyps.append(" ".join(hyp))
    (tmp_path / "ref.txt").write_text("\n".join(refs) + "\n")
    (tmp_path / "sys.txt").write_text("\n".join(hyps) + "\n")
    return tmp_path / "sys.txt", tmp_path / "ref.txt", hyps, refs


def _score(*args, input=None):
    result = run_cli("score", *args, input=input)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_default_is_fairseqs_bleu_of_the_tokens(files):
    sys_file, ref_file, hyps, refs = files
    assert _score("--sys", str(sys_file), "--ref", str(ref_file)) == [
        fairseq_format(*reference_bleu(hyps, refs))
    ]
    # the system output read from stdin, n-grams up to 2
    assert _score("--ref", str(ref_file), "--order", "2", input=sys_file.read_text()) == [
        fairseq_format(*reference_bleu(hyps, refs, order=2), order=2)
    ]


def test_sacrebleu_is_sacrebleus_corpus_bleu(files):
    sys_file, ref_file, hyps, refs = files
    lines = _score("--sys", str(sys_file), "--ref", str(ref_file), "--sacrebleu")
    assert lines == [sacrebleu.corpus_bleu(hyps, [refs]).format()]
    assert float(lines[0].split()[2]) == pytest.approx(reference_bleu(hyps, refs)[0], abs=0.01)


def test_sentence_bleu_prints_one_line_per_sentence(files):
    sys_file, ref_file, hyps, refs = files
    lines = _score("--sys", str(sys_file), "--ref", str(ref_file), "--sentence-bleu")
    assert lines == [
        f"{i} {fairseq_format(*reference_bleu([h], [r], add_one=True))}"
        for i, (h, r) in enumerate(zip(hyps, refs))
    ]


def test_ignore_case(tmp_path):
    (tmp_path / "sys").write_text("A b C d\n")
    (tmp_path / "ref").write_text("a B c D\n")
    args = ["--sys", str(tmp_path / "sys"), "--ref", str(tmp_path / "ref")]
    assert _score(*args)[0].startswith("BLEU4 = 0.00,")
    assert _score(*args, "--ignore-case")[0].startswith("BLEU4 = 100.00,")


def test_files_of_different_lengths_are_a_one_line_error(files, tmp_path):
    sys_file, _, hyps, _ = files
    (tmp_path / "short.txt").write_text("w1 w2\n")
    result = run_cli("score", "--sys", str(sys_file), "--ref", str(tmp_path / "short.txt"))
    assert result.returncode == 1
    assert result.stderr == (
        f"seqcore: error: --sys {sys_file} has {len(hyps)} lines but --ref "
        f"{tmp_path / 'short.txt'} has 1; they must be line-aligned\n"
    )
    missing = run_cli("score", "--sys", str(sys_file), "--ref", str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"seqcore: error: --ref {tmp_path / 'nope'}: ")
