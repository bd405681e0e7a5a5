"""Reading fairseq pickles: plain data comes back, anything else is refused before it runs."""

from __future__ import annotations

import argparse
import os
import sys
import types

import pytest
import torch
from fairseq_fixtures import checkpoint

from seqcore.interop import UnsafePickleError, load_pickled_checkpoint, read_fairseq_checkpoint


class Planted:
    """A custom class that would run code on unpickling, were its class ever resolved."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __setstate__(self, state):
        open(state["marker"], "w").close()


class SystemCall:
    """Pickles as a call of os.system."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _planted_checkpoint(tmp_path, planted) -> str:
    """The real fairseq transformer checkpoint's contents (read safely) with ``planted`` added
    to its cfg, and the model section as the argparse.Namespace fairseq writes."""
    state = load_pickled_checkpoint(checkpoint("transformer"))
    state["cfg"]["model"] = argparse.Namespace(**state["cfg"]["model"])
    state["cfg"]["common"]["planted"] = planted
    path = tmp_path / "planted.pt"
    torch.save(state, path)
    return str(path)


def test_the_fixtures_are_read_as_plain_data():
    state = load_pickled_checkpoint(checkpoint("transformer"))
    model = state["cfg"]["model"]  # an argparse.Namespace in the pickle
    assert type(model) is dict and model["arch"] == "transformer"
    assert model["encoder_embed_dim"] == 64
    weights = state["model"]
    assert weights["encoder.embed_tokens.weight"].shape == (128, 64)
    assert weights["encoder.embed_tokens.weight"].dtype == torch.float32


def test_os_system_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "ran"
    path = _planted_checkpoint(tmp_path, SystemCall(f"touch {marker}"))
    with pytest.raises(UnsafePickleError) as e:
        read_fairseq_checkpoint(path)
    assert f"{os.system.__module__}.system" in str(e.value)  # posix.system on Linux
    assert "\n" not in str(e.value)
    assert not marker.exists()


def test_a_custom_class_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "ran"
    path = _planted_checkpoint(tmp_path, Planted(str(marker)))
    with pytest.raises(UnsafePickleError) as e:
        read_fairseq_checkpoint(path)
    assert f"{Planted.__module__}.Planted" in str(e.value)
    assert not marker.exists()


def test_refusal_from_the_command_line(tmp_path, capsys):
    from seqcore.cli.main import main

    marker = tmp_path / "ran"
    path = _planted_checkpoint(tmp_path, SystemCall(f"touch {marker}"))
    out = tmp_path / "out.pt"
    with pytest.raises(SystemExit) as e:
        main(["import-fairseq", path, "-o", str(out)])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("seqcore: error: checkpoint ") and "system" in err[-1]
    assert "Traceback" not in "".join(err)
    assert not out.exists() and not marker.exists()


def _fake_omegaconf(monkeypatch):
    """Classes that pickle under omegaconf's names and with its layout (``__dict__`` with
    ``_content``/``_val``, ``_metadata``, ``_parent``); omegaconf itself is not installed."""
    assert "omegaconf" not in sys.modules

    def register(module, name, obj):
        parts = module.split(".")
        for i in range(1, len(parts) + 1):  # the package chain, for pickle's import
            prefix = ".".join(parts[:i])
            if prefix not in sys.modules:
                monkeypatch.setitem(sys.modules, prefix, types.ModuleType(prefix))
        setattr(sys.modules[module], name, obj)

    def make(module, name):
        cls = type(name, (), {"__module__": module, "__qualname__": name})
        register(module, name, cls)
        return cls

    classes = {
        "DictConfig": make("omegaconf.dictconfig", "DictConfig"),
        "ListConfig": make("omegaconf.listconfig", "ListConfig"),
        "AnyNode": make("omegaconf.nodes", "AnyNode"),
        "EnumNode": make("omegaconf.nodes", "EnumNode"),
        "ContainerMetadata": make("omegaconf.base", "ContainerMetadata"),
        "Metadata": make("omegaconf.base", "Metadata"),
    }
    configs = make("fairseq.dataclass.configs", "FairseqConfig")
    import enum

    ddp = enum.Enum("DDP_BACKEND_CHOICES", {"c10d": "c10d"})
    ddp.__module__ = "fairseq.dataclass.constants"
    register("fairseq.dataclass.constants", "DDP_BACKEND_CHOICES", ddp)
    return classes, configs, ddp


def _node(classes, kind, value):
    node = classes[kind].__new__(classes[kind])
    meta = classes["Metadata"].__new__(classes["Metadata"])
    meta.__dict__.update({"ref_type": typing_any(), "object_type": None, "optional": True})
    node.__dict__.update({"_val": value, "_metadata": meta, "_parent": None})
    return node


def typing_any():
    import typing

    return typing.Any


def _container(classes, kind, content, object_type=None):
    container = classes[kind].__new__(classes[kind])
    meta = classes["ContainerMetadata"].__new__(classes["ContainerMetadata"])
    meta.__dict__.update({"object_type": object_type or dict, "key_type": typing_any()})
    container.__dict__.update({"_content": content, "_metadata": meta, "_parent": None})
    return container


def test_omegaconf_containers_become_plain_dicts(tmp_path, monkeypatch):
    classes, fairseq_config, ddp = _fake_omegaconf(monkeypatch)
    model = _container(
        classes,
        "DictConfig",
        {
            "_name": _node(classes, "AnyNode", "transformer"),
            "encoder_layers": _node(classes, "AnyNode", 2),
            "ddp_backend": _node(classes, "EnumNode", ddp.c10d),
            "update_freq": _container(classes, "ListConfig", [_node(classes, "AnyNode", 1)]),
            "missing": _node(classes, "AnyNode", "???"),  # omegaconf's MISSING
        },
        object_type=fairseq_config,
    )
    path = tmp_path / "omegaconf.pt"
    torch.save({"cfg": _container(classes, "DictConfig", {"model": model}), "model": {}}, path)
    monkeypatch.undo()  # the fake modules go: nothing named omegaconf or fairseq is importable
    assert "omegaconf" not in sys.modules
    state = load_pickled_checkpoint(path)
    assert state["cfg"] == {
        "model": {
            "_name": "transformer",
            "encoder_layers": 2,
            "ddp_backend": "c10d",
            "update_freq": [1],
            "missing": None,
        }
    }
    assert "omegaconf" not in sys.modules and "fairseq" not in sys.modules


def test_torchs_legacy_format_and_bytes_are_read(tmp_path):
    """Checkpoints saved before torch 1.6 use torch's legacy (non-zip) format; bytes pickle as
    ``_codecs.encode`` under protocol 2."""
    state = load_pickled_checkpoint(checkpoint("lstm"))
    state["cfg"]["model"] = argparse.Namespace(**state["cfg"]["model"])
    state["extra_state"]["blob"] = b"\x00\xffabc"
    path = tmp_path / "legacy.pt"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    again = load_pickled_checkpoint(path)
    assert again["extra_state"]["blob"] == b"\x00\xffabc"
    assert again["cfg"]["model"]["arch"] == "lstm"
    for key, value in state["model"].items():
        assert torch.equal(again["model"][key], value)
