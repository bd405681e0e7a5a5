"""fairseq 0.12.2's lstm in seqcore: imported without running its pickle, it decodes and scores
as fairseq did (tests/fixtures/fairseq holds fairseq's own outputs), and exports back to
fairseq's names and shapes."""

from __future__ import annotations

import pytest
import torch
from fairseq_fixtures import (
    FIXTURES,
    LM_BIN,
    TRANSLATION_BIN,
    assert_same_hypotheses,
    checkpoint,
    hypotheses,
    seqcore,
    state_dict_keys,
)

from seqcore.interop import load_pickled_checkpoint

GENERATE = ["--batch-size", "32", "--device", "cpu"]


def run(capsys, *args: object) -> str:
    capsys.readouterr()
    assert seqcore(*args) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("imported") / "lstm.pt"
    assert seqcore("import-fairseq", checkpoint("lstm"), "--data", TRANSLATION_BIN, "-o", out) == 0
    return str(out)


def test_the_import_keeps_fairseqs_options(imported):
    state = torch.load(imported, weights_only=True)
    model = state["cfg"]["configs"]["model"]
    assert state["cfg"]["selections"]["arch"] == "lstm"
    assert model["encoder_bidirectional"] is True
    assert model["decoder_attention"] is True  # fairseq keeps it as the string "1"
    assert model["encoder_hidden_size"] == 64 and model["decoder_out_embed_dim"] == 64
    # fairseq's lstm options name --adaptive-softmax-cutoff, used only with adaptive_loss
    assert "decoder.fc_out.weight" in state["model"]


@pytest.mark.parametrize(
    "reference, args",
    [
        ("generate-beam5.txt", ["--gen-subset", "test", "--beam", "5"]),
        ("generate-greedy.txt", ["--gen-subset", "test", "--beam", "1"]),
        (
            "score-reference-valid.txt",
            ["--gen-subset", "valid", "--beam", "1", "--score-reference"],
        ),
    ],
)
def test_generate_gives_fairseqs_hypotheses(imported, capsys, reference, args):
    out = run(capsys, "generate", TRANSLATION_BIN, "--path", imported, *GENERATE, *args)
    assert_same_hypotheses(out, (FIXTURES / "lstm" / reference).read_text())


def test_interactive_reads_the_fairseq_checkpoint_directly(capsys, monkeypatch):
    import io

    source = (FIXTURES / "lstm" / "generate-greedy.txt").read_text()
    first = next(line for line in source.splitlines() if line.startswith("S-0\t"))
    monkeypatch.setattr("sys.stdin", io.StringIO(first.split("\t", 1)[1] + "\n"))
    out = run(
        capsys, "interactive", TRANSLATION_BIN, "--path", checkpoint("lstm"), "--beam", "1",
        "--device", "cpu",
    )  # fmt: skip
    (ours,) = [line for line in out.splitlines() if line.startswith("H-")]
    reference = hypotheses(source)[0]
    assert ours.split("\t")[2] == reference[1]
    assert abs(float(ours.split("\t")[1]) - reference[0]) <= 1e-4


def test_export_has_fairseqs_keys_and_shapes_and_imports_back(imported, tmp_path, capsys):
    out = tmp_path / "fairseq.pt"
    run(capsys, "export-fairseq", imported, "-o", out)
    state = load_pickled_checkpoint(out)
    assert {k: tuple(v.shape) for k, v in state["model"].items()} == state_dict_keys("lstm")
    assert state["cfg"]["model"]["decoder_attention"] == "1"
    again = tmp_path / "again.pt"
    run(capsys, "import-fairseq", out, "--data", TRANSLATION_BIN, "-o", again)
    before = torch.load(imported, weights_only=True)
    after = torch.load(again, weights_only=True)
    assert before["cfg"]["configs"]["model"] == after["cfg"]["configs"]["model"]
    for key, value in before["model"].items():
        assert torch.equal(value, after["model"][key]), key
    args = ["--gen-subset", "test", "--beam", "5", *GENERATE]
    first = run(capsys, "generate", TRANSLATION_BIN, "--path", imported, *args)
    second = run(capsys, "generate", TRANSLATION_BIN, "--path", again, *args)
    assert hypotheses(first) == hypotheses(second)


def test_lstm_lm_goes_to_fairseq_and_back(tmp_path, capsys):
    """No fairseq lstm_lm fixture: a seqcore lstm_lm is exported and imported back, and
    evaluates the same (fairseq's lstm_lm keys are those of the lstm decoder without attention
    and input feeding, as the export writes them)."""
    run(
        capsys, "train", LM_BIN, "--task", "language_modeling", "-a", "lstm_lm",
        "--decoder-embed-dim", "16", "--decoder-hidden-size", "16",
        "--decoder-out-embed-dim", "16", "--tokens-per-sample", "32", "--train-subset", "valid",
        "--disable-validation", "--optimizer", "adam", "--lr", "0.01", "--max-update", "2",
        "--max-tokens", "512", "--save-dir", tmp_path / "lm", "--no-epoch-checkpoints",
        "--num-workers", "0", "--log-format", "none", "--device", "cpu",
    )  # fmt: skip
    trained = tmp_path / "lm" / "checkpoint_last.pt"
    exported, again = tmp_path / "fairseq.pt", tmp_path / "again.pt"
    run(capsys, "export-fairseq", trained, "-o", exported)
    state = load_pickled_checkpoint(exported)
    assert state["cfg"]["model"]["_name"] == "lstm_lm"
    assert "decoder.layers.0.weight_ih" in state["model"]
    assert state["model"]["decoder.layers.0.weight_ih"].shape == (64, 16)  # no input feeding
    run(capsys, "import-fairseq", exported, "--data", LM_BIN, "-o", again)
    before = torch.load(trained, weights_only=True)["model"]
    after = torch.load(again, weights_only=True)["model"]
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key
    args = ["--gen-subset", "test", "--batch-size", "8", "--device", "cpu"]
    first = run(capsys, "eval-lm", LM_BIN, "--path", trained, *args)
    second = run(capsys, "eval-lm", LM_BIN, "--path", again, *args)
    assert "Perplexity" in first and first.splitlines()[-1] == second.splitlines()[-1]
