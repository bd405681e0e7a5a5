"""Unsupported fairseq input is one line naming what is wrong, and nothing is written."""

from __future__ import annotations

import argparse
import shutil

import torch
from fairseq_fixtures import TRANSLATION_BIN, checkpoint, seqcore

from seqcore.interop import load_pickled_checkpoint


def _error(capsys, *args) -> str:
    capsys.readouterr()
    assert seqcore(*args) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("seqcore: error: ")
    return last[len("seqcore: error: ") :]


def _variant(tmp_path, change, kind="transformer") -> str:
    """The fixture checkpoint with ``change(state)`` applied, saved as fairseq would (the model
    options as an argparse.Namespace)."""
    state = load_pickled_checkpoint(checkpoint(kind))
    change(state)
    if isinstance(state.get("cfg"), dict) and isinstance(state["cfg"].get("model"), dict):
        state["cfg"]["model"] = argparse.Namespace(**state["cfg"]["model"])
    path = tmp_path / "variant.pt"
    torch.save(state, path)
    return str(path)


def test_a_model_kind_without_importer(tmp_path, capsys):
    def to_bart(state):
        state["cfg"]["model"].update(arch="bart_base", _name="bart_base")

    path = _variant(tmp_path, to_bart)
    out = tmp_path / "out.pt"
    message = _error(capsys, "import-fairseq", path, "--data", TRANSLATION_BIN, "-o", out)
    assert message == (
        f"{path}: fairseq model 'bart_base' has no importer in seqcore; a plug-in that provides "
        "this model kind can register one (seqcore.interop.register_fairseq_importer)"
    )
    assert not out.exists()


def test_options_that_change_the_computation_are_named(tmp_path, capsys):
    def exotic(state):
        state["cfg"]["model"].update(cross_self_attention=True, activation_fn="gelu_fast")

    path = _variant(tmp_path, exotic)
    message = _error(
        capsys, "import-fairseq", path, "--data", TRANSLATION_BIN, "-o", tmp_path / "o.pt"
    )
    assert message == (
        f"{path}: fairseq options that seqcore's transformer does not implement and that change "
        "its outputs: --cross-self-attention True, --activation-fn gelu_fast"
    )


def test_a_checkpoint_older_than_fairseq_0_10(tmp_path, capsys):
    def legacy(state):  # fairseq 0.9: flat args, no --scoring yet
        args = dict(state["cfg"]["model"])
        args.pop("scoring")
        state["args"] = argparse.Namespace(**args)
        state["cfg"] = None

    path = _variant(tmp_path, legacy)
    message = _error(
        capsys, "import-fairseq", path, "--data", TRANSLATION_BIN, "-o", tmp_path / "o.pt"
    )
    assert message.startswith(f"{path} was written by fairseq older than 0.10")


def test_the_legacy_args_form_of_fairseq_0_10_is_imported(tmp_path, capsys):
    def legacy(state):  # fairseq 0.10 saved the flat Namespace as args, no cfg
        state["args"] = argparse.Namespace(**state["cfg"]["model"])
        state["cfg"] = None

    path = _variant(tmp_path, legacy)
    out = tmp_path / "out.pt"
    assert seqcore("import-fairseq", path, "--data", TRANSLATION_BIN, "-o", out) == 0
    assert torch.load(out, weights_only=True)["cfg"]["configs"]["model"]["encoder_layers"] == 2


def test_a_data_folder_with_other_dictionaries(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(TRANSLATION_BIN, data)
    with open(data / "dict.src.txt", "a") as f:
        f.writelines(f"extra{i} 1\n" for i in range(8))
    path = str(checkpoint("transformer"))
    for command in (["import-fairseq", path, "--data", data, "-o", tmp_path / "o.pt"],
                    ["generate", data, "--path", path]):  # fmt: skip
        assert _error(capsys, *command) == (
            f"{path}: the source dictionary of {data} has 136 symbols but the checkpoint's "
            "encoder embeddings have 128 rows; give the data folder the model was trained with"
        )


def test_without_the_data_folder_fairseq_saved(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # fairseq saved the relative path mt-bin
    path = str(checkpoint("transformer"))
    assert _error(capsys, "import-fairseq", path, "-o", "o.pt") == (
        f"{path}: the data folder fairseq saved (mt-bin) is not here; give the data folder the "
        "model was trained with (--data for import-fairseq, DATA for the others)"
    )


def test_a_seqcore_checkpoint_is_not_imported(tmp_path, capsys):
    out = tmp_path / "seqcore.pt"
    assert seqcore("import-fairseq", checkpoint("lstm"), "--data", TRANSLATION_BIN, "-o", out) == 0
    assert _error(capsys, "import-fairseq", out, "-o", tmp_path / "again.pt") == (
        f"{out} is a seqcore checkpoint already, not a fairseq one"
    )
