"""`seqcore generate`: fairseq's output lines, BLEU, ensembles, --results-path, sentencepiece,
--tokenizer moses."""

from __future__ import annotations

import math
import os
import re
import statistics

import pytest
import sacrebleu
from core.evaluation.helpers import (
    MOSES_WORDS,
    copy_splits,
    fairseq_format,
    parse_generation,
    reference_bleu,
)
from support import run_cli, run_seqcore

from seqcore.evaluation.scoring import TOKEN_BLEU_NOTE

TEST = copy_splits()["test"]


def _generate(data, *args):
    result = run_cli("generate", str(data), *args)
    assert result.returncode == 0, result.stderr
    return result


def test_copy_model_reaches_bleu_above_90_and_bleu_is_sacrebleus(copy_data, copy_model):
    result = _generate(copy_data, "--path", str(copy_model), "--batch-size", "16")
    rows = parse_generation(result.stdout)
    ids = sorted(rows["S"])
    assert ids == list(range(len(TEST["src"])))
    for i in ids:
        assert rows["S"][i] == TEST["src"][i]
        assert rows["T"][i] == TEST["tgt"][i]
        assert rows["H"][i] == rows["D"][i]  # no subword segmentation here
    hyps = [rows["D"][i][1] for i in ids]
    refs = [rows["T"][i] for i in ids]
    expected = sacrebleu.corpus_bleu(hyps, [refs])
    bleu_line = result.stdout.splitlines()[-1]
    assert bleu_line == f"Generate test with beam=5: {expected.format()}"
    assert expected.score > 90
    # no detokenizer here: said once, just before the BLEU line, and sacrebleu stays quiet
    assert result.stdout.splitlines()[-2] == TOKEN_BLEU_NOTE
    assert result.stdout.count("NOTE: BLEU") == 1
    assert "detokenize your test data" not in result.stderr


def test_lines_follow_fairseqs_format(copy_data, copy_model):
    result = _generate(copy_data, "--path", str(copy_model), "--gen-subset", "valid")
    lines = result.stdout.splitlines()
    # per sentence: S, T, H, D, P in that order, the ids of one sentence all equal
    body = [line for line in lines if re.match(r"[STHDP]-\d+\t", line)]
    assert len(body) == 5 * 16
    for k in range(0, len(body), 5):
        kinds = [line[0] for line in body[k : k + 5]]
        assert kinds == ["S", "T", "H", "D", "P"]
        assert len({line.split("\t")[0][2:] for line in body[k : k + 5]}) == 1
    rows = parse_generation(result.stdout)
    for i, (score, text) in rows["H"].items():
        positional = rows["P"][i]
        assert len(positional) == len(text.split()) + 1  # and </s>
        # the score is the mean log2-probability (length penalty 1): the P values' mean
        assert math.isclose(score, statistics.fmean(positional), abs_tol=1e-4)
    assert lines[-4] == "NOTE: hypothesis and token scores are output in base 2"
    assert re.fullmatch(
        r"Translated 16 sentences \([\d,]+ tokens\) in [\d.]+s \([\d.]+ sentences/s, "
        r"[\d.]+ tokens/s\)",
        lines[-3],
    )
    # this data folder has no detokenizer: BLEU is on the tokens, said once before the score
    assert lines[-2].startswith("NOTE: BLEU is computed on the tokens as they are")
    assert lines[-1].startswith("Generate valid with beam=5: BLEU = ")


def test_results_path_writes_generate_subset_txt(copy_data, copy_model, tmp_path):
    result = _generate(
        copy_data, "--path", str(copy_model), "--results-path", str(tmp_path / "out")
    )
    assert result.stdout == ""
    text = (tmp_path / "out" / "generate-test.txt").read_text()
    assert parse_generation(text)["H"].keys() == set(range(len(TEST["src"])))
    assert text.splitlines()[-1].startswith("Generate test with beam=5: BLEU = ")


def test_scoring_bleu_is_fairseqs_token_bleu(copy_data, copy_model):
    result = _generate(copy_data, "--path", str(copy_model), "--scoring", "bleu", "--beam", "2")
    rows = parse_generation(result.stdout)
    ids = sorted(rows["H"])
    expected = reference_bleu([rows["H"][i][1] for i in ids], [rows["T"][i] for i in ids])
    assert result.stdout.splitlines()[-1] == (
        f"Generate test with beam=2: {fairseq_format(*expected)}"
    )


def test_ensemble_of_a_checkpoint_with_itself_gives_the_same_hypotheses(copy_data, copy_model):
    one = parse_generation(_generate(copy_data, "--path", str(copy_model)).stdout)
    two = parse_generation(_generate(copy_data, "--path", f"{copy_model}:{copy_model}").stdout)
    assert {i: h[1] for i, h in one["H"].items()} == {i: h[1] for i, h in two["H"].items()}
    for i in one["H"]:
        assert math.isclose(one["H"][i][0], two["H"][i][0], abs_tol=1e-5)


def test_quiet_prints_only_the_scores(copy_data, copy_model):
    result = _generate(copy_data, "--path", str(copy_model), "--quiet")
    assert not parse_generation(result.stdout)["H"]
    assert result.stdout.splitlines()[-1].startswith("Generate test with beam=5: BLEU = ")


def test_bf16_on_cpu_generates(copy_data, copy_model):
    result = _generate(copy_data, "--path", str(copy_model), "--bf16", "--device", "cpu")
    assert len(parse_generation(result.stdout)["H"]) == len(TEST["src"])


def test_sentencepiece_folder_detokenizes_d_lines_and_scores_detokenized_text(spm_data, spm_model):
    data, text = spm_data
    result = _generate(data, "--path", str(spm_model), "--max-len-b", "20")
    rows = parse_generation(result.stdout)
    raw = (text / "test.de").read_text().splitlines()
    assert sorted(rows["T"]) == list(range(len(raw)))
    for i, ref in rows["T"].items():
        assert ref == raw[i]  # the reference, detokenized back to the raw text
        score, pieces = rows["H"][i]
        assert rows["D"][i] == (score, pieces.replace(" ", "").replace("\u2581", " ").strip())
    ids = sorted(rows["T"])
    expected = sacrebleu.corpus_bleu([rows["D"][i][1] for i in ids], [[raw[i] for i in ids]])
    assert result.stdout.splitlines()[-1] == f"Generate test with beam=5: {expected.format()}"
    assert "NOTE: BLEU" not in result.stdout  # detokenized text: no note


def test_remove_bpe_sentencepiece_decodes_h_lines(spm_data, spm_model):
    data, _ = spm_data
    plain = parse_generation(_generate(data, "--path", str(spm_model), "--max-len-b", "20").stdout)
    removed = parse_generation(
        _generate(
            data, "--path", str(spm_model), "--max-len-b", "20", "--remove-bpe", "sentencepiece"
        ).stdout
    )
    for i in plain["H"]:
        assert removed["H"][i][1] == plain["D"][i][1]
        assert removed["D"][i] == plain["D"][i]
    no_bpe = parse_generation(
        _generate(data, "--path", str(spm_model), "--max-len-b", "20", "--bpe", "none").stdout
    )
    for i in plain["H"]:
        assert no_bpe["D"][i] == plain["H"][i]  # pieces left as they are


def test_remove_bpe_alone_is_subword_nmt_as_in_fairseq(copy_data, copy_model):
    """`--remove-bpe` given alone (a common fairseq command line) means subword_nmt and leaves
    the option after it alone."""

    def lines(result):
        return [x for x in result.stdout.splitlines() if not x.startswith("Translated ")]

    alone = _generate(copy_data, "--path", str(copy_model), "--remove-bpe", "--beam", "4")
    named = _generate(
        copy_data, "--path", str(copy_model), "--remove-bpe", "subword_nmt", "--beam", "4"
    )
    assert lines(alone) == lines(named)
    assert alone.stdout.splitlines()[-1].startswith("Generate test with beam=4: BLEU = ")


def test_tokenizer_moses_detokenizes_lines_and_scores_detokenized_text(moses_data, moses_model):
    sacremoses = pytest.importorskip("sacremoses")
    detok = sacremoses.MosesDetokenizer(lang="en")
    test = copy_splits(words=MOSES_WORDS)["test"]
    result = _generate(moses_data, "--path", str(moses_model), "--tokenizer", "moses")
    rows = parse_generation(result.stdout)
    ids = sorted(rows["T"])
    assert ids == list(range(len(test["tgt"])))
    for i in ids:
        assert rows["S"][i] == detok.detokenize(test["src"][i].split())
        assert rows["T"][i] == detok.detokenize(test["tgt"][i].split())
        score, tokens = rows["H"][i]
        assert rows["D"][i] == (score, detok.detokenize(tokens.split()))
    changed = [i for i in ids if rows["T"][i] != test["tgt"][i]]
    assert len(changed) > len(ids) // 2  # the data exercises the detokenizer
    expected = sacrebleu.corpus_bleu([rows["D"][i][1] for i in ids], [[rows["T"][i] for i in ids]])
    assert result.stdout.splitlines()[-1] == f"Generate test with beam=5: {expected.format()}"
    assert expected.score > 90


def test_tokenizer_moses_without_sacremoses_is_a_one_line_error(moses_data, moses_model, tmp_path):
    blocker = tmp_path / "sacremoses.py"
    blocker.write_text("raise ImportError('not installed')\n")
    # a process: sacremoses is hidden by PYTHONPATH, read when the process starts
    result = run_seqcore(
        "generate", str(moses_data), "--path", str(moses_model), "--tokenizer", "moses",
        env={"PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "seqcore: error: --tokenizer moses needs the sacremoses package: pip install sacremoses "
        '(or pip install "seqcore-toolkit[moses]")'
    )


def test_shards_translate_disjoint_parts_that_make_up_the_whole(copy_data, copy_model):
    base = ["--path", str(copy_model), "--batch-size", "8"]
    whole = parse_generation(_generate(copy_data, *base).stdout)["H"]
    shards = [
        parse_generation(
            _generate(copy_data, *base, "--num-shards", "3", "--shard-id", str(k)).stdout
        )["H"]
        for k in range(3)
    ]
    assert all(shards) and sum(len(s) for s in shards) == len(whole)
    merged = {i: h for s in shards for i, h in s.items()}
    assert merged == whole


def test_shard_id_out_of_range_is_a_one_line_error(copy_data, copy_model):
    result = run_cli(
        "generate", str(copy_data), "--path", str(copy_model), "--num-shards", "2",
        "--shard-id", "2",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "seqcore: error: --shard-id 2 must be between 0 and --num-shards - 1 (1)\n"
    )


def test_score_reference_scores_the_references_as_search_scores_its_hypotheses(
    copy_data, copy_model
):
    """The model copies, so beam search finds the reference for most sentences: there the
    teacher-forced scores (one forward pass) equal the search's (cached, token by token)."""
    base = ["--path", str(copy_model), "--batch-size", "16"]
    scored = parse_generation(_generate(copy_data, *base, "--score-reference").stdout)
    searched = parse_generation(_generate(copy_data, *base).stdout)
    assert scored["H"] and sorted(scored["H"]) == sorted(searched["H"])
    same = 0
    for i, (score, tokens) in scored["H"].items():
        assert tokens == scored["T"][i] == TEST["tgt"][i]  # the reference itself
        positional = scored["P"][i]
        assert len(positional) == len(tokens.split()) + 1  # and its </s>
        assert score == pytest.approx(sum(positional) / len(positional), abs=1e-3)
        if searched["H"][i][1] == tokens:
            same += 1
            assert score == pytest.approx(searched["H"][i][0], abs=1e-4)
            assert positional == pytest.approx(searched["P"][i], abs=2e-4)
    assert same > len(scored["H"]) * 0.9
    # an ensemble of a checkpoint with itself: the log of the mean probability, the same
    twice = f"{copy_model}{os.pathsep}{copy_model}"
    ensemble = _generate(copy_data, "--path", twice, "--batch-size", "16", "--score-reference")
    for i, (score, tokens) in parse_generation(ensemble.stdout)["H"].items():
        assert (pytest.approx(score, abs=1e-5), tokens) == scored["H"][i]


def test_score_reference_without_references_is_a_one_line_error(copy_data, copy_model, tmp_path):
    import shutil

    data = tmp_path / "data-bin"
    shutil.copytree(copy_data, data)
    for f in data.glob("test.src-tgt.tgt.*"):
        f.unlink()
    plain = _generate(data, "--path", str(copy_model))
    assert "H-0" in plain.stdout and "T-0" not in plain.stdout
    result = run_cli("generate", str(data), "--path", str(copy_model), "--score-reference")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: --score-reference: the test split of {data} has no target side to score"
    )
