"""fairseq's Simple LSTM tutorial, its code changed only in its import lines, trains and decodes.

The tutorial's model is a legacy one (``add_args(parser)``, ``build_model(cls, args, task)``, an
architecture function filling ``args`` in place); its encoder reads ``args.left_pad_source``, a
task option, so the Namespace it receives has to hold the whole run's options as in fairseq.
"""

from __future__ import annotations

import argparse
import re

import pytest
import torch
from core.porting.helpers import SIMPLE_LSTM, SIMPLE_LSTM_INCREMENTAL, SMALL, isolated_plugins

from seqcore.cli.train import train_command
from seqcore.config.legacy import component_args
from seqcore.testing.cli import run_cli

# the tutorial's training command, at a size that trains in seconds
TRAIN = [
    "-a", "tutorial_simple_lstm", "--encoder-dropout", "0.2", "--decoder-dropout", "0.2",
    "--optimizer", "adam", "--lr", "0.005", "--lr-shrink", "0.5", "--max-tokens", "500",
    "--max-update", "6", "--num-workers", "0", "--log-format", "simple",
    "--no-epoch-checkpoints",
]  # fmt: skip


def hypotheses(stdout: str) -> dict[int, str]:
    return {int(m[1]): m[2] for m in re.finditer(r"^H-(\d+)\t\S+\t(.*)$", stdout, re.M)}


def generate(data, user_dir, checkpoint, *extra):
    result = run_cli(
        "generate", str(data), "--user-dir", str(user_dir), "--path", str(checkpoint),
        "--beam", "3", "--max-len-b", "6", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """Both versions trained, and their checkpoints decoded (each user dir in isolation)."""
    out = {}
    for name, user_dir in (("full", SIMPLE_LSTM), ("incremental", SIMPLE_LSTM_INCREMENTAL)):
        save_dir = tmp_path_factory.mktemp(name)
        with isolated_plugins():
            trained = run_cli(
                "train", str(data), "--user-dir", str(user_dir), *TRAIN, *SMALL,
                "--save-dir", str(save_dir),
            )  # fmt: skip
            assert trained.returncode == 0, trained.stderr
            checkpoint = save_dir / "checkpoint_best.pt"
            out[name] = (trained, checkpoint, generate(data, user_dir, checkpoint))
            if name == "incremental":
                out["recomputed"] = generate(data, user_dir, checkpoint, "--recompute-prefix")
    with isolated_plugins():  # the incremental model's weights under the first decoder
        out["full_decoder"] = generate(data, SIMPLE_LSTM, out["incremental"][1])
    return out


def test_the_tutorial_model_trains_with_the_tutorial_flags(runs):
    trained, checkpoint, _ = runs["full"]
    assert "SimpleLSTMModel(" in trained.stdout  # build_model's print(model)
    assert "Dropout(p=0.2" in trained.stdout  # --encoder-dropout 0.2 reached the encoder
    assert "LSTM(16, 16, batch_first=True)" in trained.stdout
    assert "model tutorial_simple_lstm (SimpleLSTMModel)" in trained.stderr
    assert "6 updates" in trained.stderr
    state = torch.load(checkpoint, weights_only=True)  # plain data only, no pickled Namespace
    model = state["cfg"]["configs"]["model"]
    assert model == {
        "encoder_embed_dim": 16,
        "encoder_hidden_dim": 16,
        "encoder_dropout": 0.2,
        "decoder_embed_dim": 16,
        "decoder_hidden_dim": 16,
        "decoder_dropout": 0.2,
    }
    assert state["cfg"]["selections"]["arch"] == "tutorial_simple_lstm"


def test_generate_decodes_every_test_sentence_with_both_decoders(runs, data):
    for name in ("full", "incremental"):
        result = runs[name][2]
        assert sorted(hypotheses(result.stdout)) == list(range(16)), name
        assert result.stdout.splitlines()[-1].startswith("Generate test with beam=3: BLEU = ")


def test_the_incremental_decoder_finds_what_the_whole_prefix_decoders_find(runs):
    cached = hypotheses(runs["incremental"][2].stdout)
    assert cached == hypotheses(runs["recomputed"].stdout)
    # section 1's decoder (no incremental_state: the whole prefix at every step) on the same
    # weights
    assert cached == hypotheses(runs["full_decoder"].stdout)


def test_build_model_receives_the_runs_options_as_a_namespace(data, isolated):
    cfg = train_command.resolve_args(
        [str(data), "--user-dir", str(SIMPLE_LSTM), "-a", "tutorial_simple_lstm",
         "--encoder-dropout", "0.2", "--optimizer", "adam"]
    )  # fmt: skip
    args = component_args(cfg.model)
    assert isinstance(args, argparse.Namespace)
    assert args.arch == "tutorial_simple_lstm" and args.task == "translation"
    assert args.encoder_dropout == 0.2  # the flag
    assert args.decoder_dropout == 0.1  # add_args' default
    assert args.encoder_embed_dim == 256  # the architecture's getattr default
    assert args.left_pad_source is True  # the task's options
    assert args.max_source_positions == 1024
    assert args.data == str(data)
    assert args.optimizer == "adam" and args.max_update == 0  # and the trainer's


def test_train_help_lists_the_add_args_flags(isolated):
    result = run_cli("train", "--user-dir", str(SIMPLE_LSTM), "-a", "tutorial_simple_lstm", "-h")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Model options (simple_lstm, from user dir" in text
    # metavar, help and the architecture's default
    assert "--encoder-embed-dim N dimensionality of the encoder embeddings [default: 256]" in text
    assert "--encoder-dropout FLOAT encoder dropout probability [default: 0.1]" in text


def test_a_bad_value_is_one_line_naming_the_flag(data, isolated):
    result = run_cli(
        "train", str(data), "--user-dir", str(SIMPLE_LSTM), "-a", "tutorial_simple_lstm",
        "--encoder-embed-dim", "wide", "--optimizer", "adam", "--max-tokens", "100",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "seqcore: error: Invalid value for '--encoder-embed-dim': expected an integer, got "
        "'wide' (see 'seqcore train --help')"
    ]


def test_config_file_sits_between_architecture_and_flags(data, tmp_path, isolated):
    config = tmp_path / "run.toml"
    config.write_text("encoder_hidden_dim = 24\nencoder_dropout = 0.3\ndecoder_dropout = 0.4\n")
    cfg = train_command.resolve_args(
        [str(data), "--user-dir", str(SIMPLE_LSTM), "-a", "tutorial_simple_lstm",
         "--config", str(config), "--encoder-dropout", "0.25", "--optimizer", "adam"]
    )  # fmt: skip
    args = component_args(cfg.model)
    assert args.encoder_hidden_dim == 24  # the file over the architecture's 256
    assert args.decoder_hidden_dim == 256  # the architecture
    assert args.encoder_dropout == 0.25  # the flag over the file
    assert args.decoder_dropout == 0.4  # the file over add_args' default
