"""Registries: names, origins, clashes, did-you-mean, architectures."""

import importlib.util
import sys

import pytest

from seqcore.errors import RegistrationError, UnknownComponentError
from seqcore.models import BaseModel, register_model, register_model_architecture
from seqcore.registry import ARCHITECTURES, MODELS, Registry, undone_on_error


def test_unknown_name_lists_available_names_and_suggests_the_closest():
    reg = Registry("model architecture", "--arch")
    for name in ["transformer", "transformer_iwslt_de_en", "lstm"]:
        reg.register(name, lambda cfg: None)
    with pytest.raises(UnknownComponentError) as info:
        reg.get("transfomer")
    msg = str(info.value)
    assert "unknown model architecture 'transfomer' (--arch)" in msg
    assert "did you mean 'transformer'?" in msg
    assert "available: lstm, transformer, transformer_iwslt_de_en" in msg


def test_registering_the_same_object_twice_is_harmless():
    reg = Registry("criterion")

    class C:
        pass

    first = reg.register("c", C)
    assert reg.register("c", C) is first
    assert len(reg) == 1


def test_one_file_imported_under_two_module_names_is_harmless(tmp_path, monkeypatch):
    source = tmp_path / "mymodel.py"
    source.write_text("class Thing:\n    pass\n")
    reg = Registry("task")
    classes = []
    for module_name in ["mymodel_a", "pkg_alias_mymodel"]:
        spec = importlib.util.spec_from_file_location(module_name, source)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        spec.loader.exec_module(module)
        classes.append(module.Thing)
    assert classes[0] is not classes[1]
    reg.register("thing", classes[0])
    reg.register("thing", classes[1])
    assert reg.get("thing").obj is classes[0]


def test_a_different_object_under_a_taken_name_names_both_origins():
    reg = Registry("optimizer", "--optimizer")

    class A:
        pass

    class B:
        pass

    reg.register("sgd2", A)
    reg.register("sgd2", B)  # the clash stays local: registering goes on
    reg.register("other", A)
    assert reg.get("other").obj is A
    with pytest.raises(RegistrationError) as info:
        reg.get("sgd2")
    msg = str(info.value)
    assert msg.startswith("optimizer 'sgd2' (--optimizer) is registered by ")
    assert msg.count(__name__) == 2  # both origins name their module
    assert "--disable-plugin" in msg and "SEQCORE_DISABLE_PLUGINS" in msg
    assert [e.obj for e in reg.clashes("sgd2")] == [A, B]
    assert [e.obj for e in reg.all_entries()] == [A, A, B]  # other, sgd2, sgd2
    assert reg.clashes("other") == []


def test_a_failed_load_leaves_no_registration_behind():
    reg = Registry("criterion")

    class A:
        pass

    class B:
        pass

    reg.register("kept", A)
    with pytest.raises(RuntimeError), undone_on_error([reg]):
        reg.register("half_loaded", B)
        reg.register("kept", B)
        raise RuntimeError("the plug-in's import fails after registering")
    assert list(reg) == ["kept"]
    assert reg.get("kept").obj is A and reg.clashes("kept") == []


def test_register_model_rejects_a_class_that_is_not_a_model():
    with pytest.raises(RegistrationError, match="not a subclass of BaseModel"):
        register_model("not_a_model_xyz")(object)


def test_a_model_is_an_architecture_of_its_own_name_until_it_registers_one():
    @register_model("reg_test_model")
    class M(BaseModel):
        pass

    implicit = ARCHITECTURES.get("reg_test_model")
    assert implicit.implicit and implicit.extra["model"] == "reg_test_model"

    @register_model_architecture("reg_test_model", "reg_test_model")
    def explicit(cfg):
        cfg.x = getattr(cfg, "x", 3)

    assert ARCHITECTURES.get("reg_test_model").obj is explicit
    assert MODELS.get("reg_test_model").obj is M
