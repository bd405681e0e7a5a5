"""Bad input to the inference commands: one line naming what is wrong, non-zero exit."""

from __future__ import annotations

import random

import pytest
import torch
from core.evaluation.helpers import binarize, random_sentences
from support import run_cli


def _error(*args, input=None) -> str:
    result = run_cli(*args, input=input)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("seqcore: error: ")
    return last[len("seqcore: error: ") :]


@pytest.mark.parametrize("command", ["generate", "interactive", "eval-lm"])
def test_missing_checkpoint(command, copy_data, tmp_path):
    missing = tmp_path / "nope.pt"
    assert _error(command, str(copy_data), "--path", str(missing), input="") == (
        f"--path {missing}: no such checkpoint"
    )


def test_files_that_are_not_seqcore_checkpoints(copy_data, tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("hello\n")
    assert _error("generate", str(copy_data), "--path", str(text)) == (
        f"--path {text} is not a seqcore checkpoint"
    )
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    assert _error("generate", str(copy_data), "--path", str(other)) == (
        f"{other} is not a seqcore checkpoint"
    )
    assert _error("generate", str(copy_data), "--path", str(tmp_path)) == (
        f"--path {tmp_path} is a folder; give a checkpoint file in it"
    )


def test_data_folder_with_other_dictionaries(copy_model, tmp_path):
    rng = random.Random(9)
    lines = [s + " extra1 extra2 extra3 extra4 extra5" for s in random_sentences(30, rng)]
    sides = {"src": lines, "tgt": lines}
    other = binarize(tmp_path / "other", {"train": sides, "test": sides})
    message = _error("generate", str(other), "--path", str(copy_model))
    assert message == (
        f"the source dictionary of {other} is not the one {copy_model} was trained with; "
        "use the data folder the model was trained on"
    )


def test_missing_data_folder_and_split(copy_data, copy_model, tmp_path):
    assert _error("generate", str(tmp_path / "nodata"), "--path", str(copy_model)) == (
        f"data folder {tmp_path / 'nodata'} does not exist"
    )
    message = _error("generate", str(copy_data), "--path", str(copy_model), "--gen-subset", "x")
    assert message.startswith(f"{copy_data}: no x data for src-tgt")


def test_model_overrides(copy_data, copy_model):
    assert _error(
        "generate", str(copy_data), "--path", str(copy_model), "--model-overrides", "{nope"
    ).startswith("--model-overrides '{nope' is not a JSON object")
    base = ["generate", str(copy_data), "--path", str(copy_model)]
    assert _error(*base, "--model-overrides", '{"no_such_option": 1}') == (
        f"--model-overrides: no_such_option is not an option of the model in {copy_model}"
    )


def test_required_arguments(copy_data, copy_model):
    assert _error("generate", str(copy_data)) == "--path is required by generate 'generate'"
    assert _error("generate", "--path", str(copy_model)) == (
        "DATA is required by generate 'generate'"
    )


def test_models_of_the_wrong_kind(copy_data, copy_model, lm_data, lm_model):
    assert _error("eval-lm", str(copy_data), "--path", str(copy_model)) == (
        "seqcore eval-lm evaluates language models; 'transformer' is an encoder-decoder model "
        "(use seqcore generate)"
    )
    assert _error("generate", str(lm_data), "--path", str(lm_model)) == (
        "seqcore generate translates with encoder-decoder models; 'transformer_lm' has no "
        "encoder (evaluate a language model with seqcore eval-lm)"
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_fp16_and_cuda_need_a_gpu(copy_data, copy_model):
    base = ["generate", str(copy_data), "--path", str(copy_model)]
    assert _error(*base, "--fp16") == "--fp16 needs a CUDA device (use --bf16 on CPU)"
    assert _error(*base, "--device", "cuda") == "--device cuda: no CUDA device is available"
    assert _error(*base, "--fp16", "--bf16") == "--fp16 and --bf16 exclude each other; choose one"


def test_context_window_must_leave_room_for_the_block(lm_data, lm_model):
    assert _error("eval-lm", str(lm_data), "--path", str(lm_model), "--context-window", "16") == (
        "--context-window 16 must be smaller than --tokens-per-sample 16"
    )


def test_unknown_remove_bpe(copy_data, copy_model):
    assert _error(
        "generate", str(copy_data), "--path", str(copy_model), "--remove-bpe", "bogus"
    ).startswith("--remove-bpe: unknown post-process option 'bogus'")
