"""fairseq 0.12.2's transformer and transformer_lm in seqcore: imported without running their
pickles, they decode and score as fairseq did (tests/fixtures/fairseq holds fairseq's own
outputs), and export back to fairseq's names and shapes."""

from __future__ import annotations

import logging
import re
import zipfile

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


def run(capsys, *args: str) -> tuple[str, str]:
    capsys.readouterr()
    assert seqcore(*args) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, str]:
    """The fixtures' transformer and transformer_lm, imported with ``import-fairseq``."""
    folder = tmp_path_factory.mktemp("imported")
    paths = {}
    for kind, data in (("transformer", TRANSLATION_BIN), ("transformer_lm", LM_BIN)):
        out = folder / f"{kind}.pt"
        assert seqcore("import-fairseq", checkpoint(kind), "--data", data, "-o", out) == 0
        paths[kind] = str(out)
    return paths


def test_the_import_is_a_plain_seqcore_checkpoint(imported):
    state = torch.load(imported["transformer"], weights_only=True)
    assert state["cfg"]["selections"]["arch"] == "transformer"
    model = state["cfg"]["configs"]["model"]
    assert model["encoder_layers"] == 2 and model["decoder_embed_dim"] == 64
    assert model["share_decoder_input_output_embed"] is True
    assert model["encoder_normalize_before"] is False
    assert set(state["dictionaries"]) == {"source", "target"}
    # q, k, v fused as seqcore keeps them, from fairseq's separate projections
    fairseq = load_pickled_checkpoint(checkpoint("transformer"))["model"]
    prefix = "encoder.layers.1.self_attn"
    expected = torch.cat([fairseq[f"{prefix}.{p}_proj.weight"] for p in "qkv"])
    assert torch.equal(state["model"][f"{prefix}.in_proj.weight"], expected)
    lm = torch.load(imported["transformer_lm"], weights_only=True)
    assert lm["cfg"]["configs"]["model"]["decoder_input_dim"] == 512  # fairseq's project_in_dim


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
    out, _ = run(
        capsys, "generate", TRANSLATION_BIN, "--path", imported["transformer"], *GENERATE, *args
    )
    assert_same_hypotheses(out, (FIXTURES / "transformer" / reference).read_text())


def test_generate_reads_the_fairseq_checkpoint_directly(capsys, caplog):
    caplog.set_level(logging.INFO, logger="seqcore")  # seqcore's logger does not propagate
    logging.getLogger("seqcore").addHandler(caplog.handler)
    try:
        out, _ = run(
            capsys, "generate", TRANSLATION_BIN, "--path", checkpoint("transformer"), *GENERATE,
            "--gen-subset", "test", "--beam", "5",
        )  # fmt: skip
    finally:
        logging.getLogger("seqcore").removeHandler(caplog.handler)
    assert_same_hypotheses(out, (FIXTURES / "transformer" / "generate-beam5.txt").read_text())
    # one line (the record may reach caplog through its handler and through the root logger)
    said = {r.getMessage() for r in caplog.records if "fairseq checkpoint" in r.getMessage()}
    assert len(said) == 1 and "imported in memory" in said.pop()
    assert "BLEU = 33.61" in out  # fairseq: BLEU4 = 33.61


def test_an_ensemble_may_mix_fairseq_and_seqcore_checkpoints(imported, capsys):
    both = f"{checkpoint('transformer')}:{imported['transformer']}"  # the same model twice
    out, _ = run(capsys, "generate", TRANSLATION_BIN, "--path", both, *GENERATE, "--beam", "5")
    assert_same_hypotheses(out, (FIXTURES / "transformer" / "generate-beam5.txt").read_text())


def _fairseq_eval_lm(name: str) -> tuple[float, float]:
    text = (FIXTURES / "transformer_lm" / name).read_text()
    loss = float(re.search(r"Loss \(base 2\): ([\d.]+)", text).group(1))
    ppl = float(re.search(r"Perplexity: ([\d.]+)", text).group(1))
    return loss, ppl


@pytest.mark.parametrize(
    "reference, args",
    [("eval-lm-test.txt", []), ("eval-lm-test-window32.txt", ["--context-window", "32"])],
)
@pytest.mark.parametrize("direct", [False, True], ids=["imported", "direct"])
def test_eval_lm_gives_fairseqs_loss_and_perplexity(imported, capsys, reference, args, direct):
    path = checkpoint("transformer_lm") if direct else imported["transformer_lm"]
    out, err = run(
        capsys, "eval-lm", LM_BIN, "--path", path, "--gen-subset", "test",
        "--tokens-per-sample", "64", "--batch-size", "8", "--device", "cpu", *args,
    )  # fmt: skip
    text = out + err
    loss = float(re.search(r"Loss \(base 2\): ([\d.]+)", text).group(1))
    ppl = float(re.search(r"Perplexity: ([\d.]+)", text).group(1))
    assert (loss, ppl) == _fairseq_eval_lm(reference)  # both as printed: 4 and 2 decimals


@pytest.mark.parametrize("kind", ["transformer", "transformer_lm"])
def test_export_has_fairseqs_keys_and_shapes(imported, tmp_path, capsys, kind):
    out = tmp_path / "fairseq.pt"
    run(capsys, "export-fairseq", imported[kind], "-o", out)
    state = load_pickled_checkpoint(out)  # plain data: no fairseq class is needed to read it
    shapes = {k: tuple(v.shape) for k, v in state["model"].items()}
    assert shapes == state_dict_keys(kind)
    # the cfg has fairseq 0.12.2's layout: its task section's keys, its model options' values
    written = load_pickled_checkpoint(checkpoint(kind))["cfg"]
    assert state["cfg"]["task"].keys() == written["task"].keys()
    if kind == "transformer_lm":  # a dataclass model: exactly its keys
        assert state["cfg"]["model"].keys() == written["model"].keys()
    else:  # a legacy model: an argparse.Namespace in the pickle, as fairseq writes it
        with zipfile.ZipFile(out) as z:
            pickle = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
        assert b"argparse\nNamespace" in pickle
    common = set(state["cfg"]["model"]) & set(written["model"]) - {"max_target_positions"}
    assert len(common) > 20
    for key in common:
        assert state["cfg"]["model"][key] == written["model"][key], key
    # import(export(model)) is the model
    again = tmp_path / "again.pt"
    data = TRANSLATION_BIN if kind == "transformer" else LM_BIN
    run(capsys, "import-fairseq", out, "--data", data, "-o", again)
    before = torch.load(imported[kind], weights_only=True)
    after = torch.load(again, weights_only=True)
    assert before["cfg"]["configs"]["model"] == after["cfg"]["configs"]["model"]
    assert before["model"].keys() == after["model"].keys()
    for key, value in before["model"].items():
        assert torch.equal(value, after["model"][key]), key
    if kind == "transformer":
        args = ["--gen-subset", "test", "--beam", "5", *GENERATE]
        first, _ = run(capsys, "generate", TRANSLATION_BIN, "--path", imported[kind], *args)
        second, _ = run(capsys, "generate", TRANSLATION_BIN, "--path", out, *args)
        assert hypotheses(first) == hypotheses(second)


def test_the_import_works_in_average_checkpoints_and_finetuning(imported, tmp_path, capsys):
    averaged = tmp_path / "averaged.pt"
    run(capsys, "average-checkpoints", "--inputs", imported["transformer"], imported["transformer"],
        "--output", averaged)  # fmt: skip
    out, _ = run(capsys, "generate", TRANSLATION_BIN, "--path", averaged, *GENERATE,
                 "--gen-subset", "test", "--beam", "5")  # fmt: skip
    assert_same_hypotheses(out, (FIXTURES / "transformer" / "generate-beam5.txt").read_text())
    # one update at a tiny learning rate from the imported weights: they barely move
    model = [
        "-a", "transformer", "--encoder-layers", "2", "--decoder-layers", "2",
        "--encoder-embed-dim", "64", "--decoder-embed-dim", "64",
        "--encoder-ffn-embed-dim", "128", "--decoder-ffn-embed-dim", "128",
        "--encoder-attention-heads", "4", "--decoder-attention-heads", "4",
        "--share-decoder-input-output-embed",
    ]  # fmt: skip
    out, err = run(
        capsys, "train", TRANSLATION_BIN, *model, "--train-subset", "valid",
        "--disable-validation", "--optimizer", "adam", "--lr", "1e-7", "--max-update", "1",
        "--max-tokens", "2000", "--save-dir", tmp_path / "ft", "--no-epoch-checkpoints",
        "--finetune-from-model", imported["transformer"], "--num-workers", "0",
        "--log-format", "none", "--device", "cpu",
    )  # fmt: skip
    assert "fine-tuning from" in out + err
    start = torch.load(imported["transformer"], weights_only=True)["model"]
    tuned = torch.load(tmp_path / "ft" / "checkpoint_last.pt", weights_only=True)["model"]
    assert start.keys() == tuned.keys()
    for key, value in start.items():
        assert torch.allclose(value, tuned[key], atol=1e-5), key


def test_pre_norm_learned_positions_go_to_fairseq_and_back(tmp_path, capsys):
    """Options the fixture does not use: pre-norm (with the final layer norms), learned positions
    (fairseq's embed_positions.weight, no _float_tensor) and --layernorm-embedding."""
    model = [
        "-a", "transformer", "--encoder-layers", "1", "--decoder-layers", "1",
        "--encoder-embed-dim", "16", "--decoder-embed-dim", "16",
        "--encoder-ffn-embed-dim", "32", "--decoder-ffn-embed-dim", "32",
        "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
        "--encoder-normalize-before", "--decoder-normalize-before", "--encoder-learned-pos",
        "--decoder-learned-pos", "--layernorm-embedding", "--max-source-positions", "64",
        "--max-target-positions", "64",
    ]  # fmt: skip
    run(
        capsys, "train", TRANSLATION_BIN, *model, "--train-subset", "valid",
        "--disable-validation", "--optimizer", "adam", "--lr", "0.01", "--max-update", "2",
        "--max-tokens", "2000", "--save-dir", tmp_path / "ck", "--no-epoch-checkpoints",
        "--num-workers", "0", "--log-format", "none", "--device", "cpu",
    )  # fmt: skip
    trained = tmp_path / "ck" / "checkpoint_last.pt"
    exported, again = tmp_path / "fairseq.pt", tmp_path / "again.pt"
    run(capsys, "export-fairseq", trained, "-o", exported)
    shapes = {k: tuple(v.shape) for k, v in load_pickled_checkpoint(exported)["model"].items()}
    assert shapes["encoder.embed_positions.weight"] == (64 + 1 + 1, 16)  # fairseq: + pad + 1
    assert "encoder.embed_positions._float_tensor" not in shapes
    expected = [
        "encoder.layer_norm.weight",
        "decoder.layer_norm.weight",
        "encoder.layernorm_embedding.weight",
        "decoder.layers.0.encoder_attn.k_proj.weight",
    ]
    assert all(name in shapes for name in expected)
    run(capsys, "import-fairseq", exported, "--data", TRANSLATION_BIN, "-o", again)
    before = torch.load(trained, weights_only=True)["model"]
    after = torch.load(again, weights_only=True)["model"]
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key
    args = ["--gen-subset", "test", "--beam", "2", "--max-len-b", "20", *GENERATE]
    first, _ = run(capsys, "generate", TRANSLATION_BIN, "--path", trained, *args)
    second, _ = run(capsys, "generate", TRANSLATION_BIN, "--path", again, *args)
    assert hypotheses(first) == hypotheses(second)
