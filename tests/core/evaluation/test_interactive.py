"""`seqcore interactive`: raw lines in, fairseq's S-/W-/H-/D-/P- lines out, as they come."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from core.evaluation.helpers import parse_generation
from support import run_cli


def _answers(stdout: str) -> list[list[str]]:
    """The output split into the answers of each input line (an empty line answers one)."""
    answers, current = [], []
    for line in stdout.splitlines():
        if line == "":
            answers.append([""])
            continue
        current.append(line)
        if line.startswith("P-"):
            answers.append(current)
            current = []
    return answers


def test_lines_from_stdin_are_translated_and_empty_lines_answered_empty(copy_data, copy_model):
    lines = ["w1 w2 w3", "", "w5 w5 w7 w0", "   ", "w11 w3"]
    result = run_cli(
        "interactive", str(copy_data), "--path", str(copy_model), input="\n".join(lines) + "\n"
    )
    assert result.returncode == 0, result.stderr
    answers = _answers(result.stdout)
    assert len(answers) == len(lines)
    for i, (line, answer) in enumerate(zip(lines, answers)):
        if not line.strip():
            assert answer == [""]
            continue
        assert [a.split("\t")[0] for a in answer] == [f"{k}-{i}" for k in "SWHDP"]
    rows = parse_generation(result.stdout)
    assert rows["S"] == {0: "w1 w2 w3", 2: "w5 w5 w7 w0", 4: "w11 w3"}
    assert {i: h[1] for i, h in rows["H"].items()} == rows["S"]  # the model copies
    assert rows["W"][0].endswith("\tseconds")


def test_input_file_and_buffer_give_the_same_translations(copy_data, copy_model, tmp_path):
    lines = ["w1 w2 w3", "w4", "", "w5 w5 w7 w0", "w0 w1 w2 w3 w4 w5"]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    base = ["interactive", str(copy_data), "--path", str(copy_model)]
    from_stdin = run_cli(*base, input="\n".join(lines) + "\n")
    buffered = run_cli(
        *base, "--input", str(tmp_path / "in.txt"), "--buffer-size", "3", "--batch-size", "2"
    )
    assert from_stdin.returncode == 0 and buffered.returncode == 0, buffered.stderr
    a, b = parse_generation(from_stdin.stdout), parse_generation(buffered.stdout)
    assert a["S"] == b["S"]
    assert {i: h[1] for i, h in a["H"].items()} == {i: h[1] for i, h in b["H"].items()}
    assert len(_answers(buffered.stdout)) == len(lines)


def _read_answer(fd: int, pending: bytearray, timeout: float) -> list[str]:
    """Lines from ``fd`` up to a P- line, waiting at most ``timeout`` seconds for them."""
    lines: list[str] = []
    deadline = time.time() + timeout
    while not (lines and lines[-1].startswith("P-")):
        if b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            lines.append(line.decode())
            continue
        ready, _, _ = select.select([fd], [], [], max(deadline - time.time(), 0))
        assert ready, f"no complete answer while stdin stays open (got {lines})"
        chunk = os.read(fd, 65536)
        assert chunk, f"the process ended (got {lines})"
        pending += chunk
    return lines


@pytest.mark.skipif(sys.platform == "win32", reason="select on pipes")
def test_each_line_is_answered_before_the_next_is_read(copy_data, copy_model):
    # a process: what is tested is that its answers come through a pipe line by line
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqcore", "interactive", str(copy_data), "--path", str(copy_model)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")},
    )
    pending = bytearray()
    try:
        for i, line in enumerate(["w3 w4 w5", "w6 w7"]):
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
            answer = _read_answer(proc.stdout.fileno(), pending, timeout=60)
            assert answer[0] == f"S-{i}\t{line}"
            assert answer[2].startswith(f"H-{i}\t") and answer[2].endswith(f"\t{line}")
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_a_line_too_long_for_the_model_is_a_one_line_error(copy_data, copy_model):
    long_line = " ".join(["w1"] * 40)
    result = run_cli(
        "interactive", str(copy_data), "--path", str(copy_model),
        "--model-overrides", '{"max_source_positions": 16}', input=f"w1 w2\n{long_line}\n",
    )  # fmt: skip
    assert result.returncode == 1
    assert parse_generation(result.stdout)["H"][0][1] == "w1 w2"  # answered before the error
    assert result.stderr.splitlines()[-1] == (
        "seqcore: error: stdin line 2: 41 tokens (with </s>), more than the model's "
        "--max-source-positions 16"
    )


def test_sentencepiece_folder_segments_raw_input(spm_data, spm_model):
    import sentencepiece as spm

    data, _ = spm_data
    processor = spm.SentencePieceProcessor(model_file=str(data / "sentencepiece.model"))
    raw = ["the cat sat on the mat", "big red house"]
    result = run_cli(
        "interactive", str(data), "--path", str(spm_model), "--max-len-b", "10",
        input="\n".join(raw) + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = parse_generation(result.stdout)
    for i, line in enumerate(raw):
        assert rows["S"][i] == " ".join(processor.encode(line, out_type=str))
        score, pieces = rows["H"][i]
        assert rows["D"][i] == (score, pieces.replace(" ", "").replace("\u2581", " ").strip())


def test_tokenizer_moses_tokenizes_raw_input_and_detokenizes_the_answer(moses_data, moses_model):
    sacremoses = pytest.importorskip("sacremoses")
    tokenizer = sacremoses.MosesTokenizer(lang="en")
    raw = ["it's well-known.", "(don't)", "well & known,"]  # at most 6 tokens, as trained
    result = run_cli(
        "interactive", str(moses_data), "--path", str(moses_model), "--tokenizer", "moses",
        input="\n".join(raw) + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = parse_generation(result.stdout)
    for i, line in enumerate(raw):
        tokens = tokenizer.tokenize(line, aggressive_dash_splits=True, return_str=True)
        assert rows["S"][i] == tokens
        assert rows["H"][i][1] == tokens  # the model copies its Moses tokens
        assert rows["D"][i][1] == line  # and the answer reads as the input did
