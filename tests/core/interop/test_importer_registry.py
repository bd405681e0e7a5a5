"""Importers are a plug-in extension point: a plug-in that adds a model kind adds its importer,
and the core's import-fairseq and --path use it like the first-party ones."""

from __future__ import annotations

import argparse

import pytest
import torch
from fairseq_fixtures import TRANSLATION_BIN, seqcore

import seqcore.interop.importers as importers
from seqcore.errors import RegistrationError
from seqcore.interop import (
    FairseqImporter,
    load_pickled_checkpoint,
    register_fairseq_importer,
    rename,
)


@pytest.fixture
def registry(monkeypatch):
    """The registered importers, restored after the test."""
    monkeypatch.setattr(importers, "_IMPORTERS", list(importers._IMPORTERS))


def _toy_importer():
    class ToyImporter(FairseqImporter):
        """fairseq's (imaginary) ``toy_fairseq`` is the toy plug-in's ``toy`` model."""

        fairseq_archs = ("toy_fairseq",)
        seqcore_models = ("toy",)

        def seqcore_arch(self, ckpt):
            return "toy"

        def model_values(self, ckpt):
            return {"embed_dim": ckpt.model_options["toy_dim"]}

        def import_weights(self, state_dict, model_cfg):
            return rename(state_dict, [(r"(encoder|decoder)\.embed_tokens\.(.*)", r"\1.embed.\2")])

    return ToyImporter


def _fairseq_toy_checkpoint(tmp_path, dim=4) -> str:
    weights = {
        "encoder.embed_tokens.weight": torch.randn(128, dim),
        "decoder.embed_tokens.weight": torch.randn(128, dim),
        "decoder.out.weight": torch.randn(128, dim),
        "decoder.out.bias": torch.randn(128),
    }
    model = argparse.Namespace(arch="toy_fairseq", _name="toy_fairseq", toy_dim=dim)
    state = {
        "args": None,
        "cfg": {"model": model, "task": {"_name": "translation", "data": "mt-bin"}},
        "model": weights,
        "optimizer_history": [{"num_updates": 7}],
        "extra_state": {},
    }
    path = tmp_path / "toy.pt"
    torch.save(state, path)
    return str(path)


def test_a_plugins_importer_is_used(registry, tmp_path):
    register_fairseq_importer(_toy_importer())
    path = _fairseq_toy_checkpoint(tmp_path)
    out = tmp_path / "out.pt"
    assert seqcore("import-fairseq", path, "--data", TRANSLATION_BIN, "-o", out) == 0
    state = torch.load(out, weights_only=True)
    assert state["cfg"]["selections"]["arch"] == "toy"
    assert state["cfg"]["configs"]["model"]["embed_dim"] == 4
    assert state["num_updates"] == 7
    fairseq = load_pickled_checkpoint(path)["model"]
    assert torch.equal(
        state["model"]["encoder.embed.weight"], fairseq["encoder.embed_tokens.weight"]
    )


def test_two_importers_for_one_arch_are_refused(registry):
    register_fairseq_importer(_toy_importer())
    other = type("OtherToy", (_toy_importer(),), {"__module__": "elsewhere"})
    with pytest.raises(
        RegistrationError, match="claims model toy, toy_fairseq, already imported by"
    ):
        register_fairseq_importer(other)
