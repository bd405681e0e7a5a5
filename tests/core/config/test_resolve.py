"""From selected names and given values to config instances: component selection, precedence,
architecture functions, required fields and the errors that name what is at fault
(seqcore.config.resolve, in-process; the config file's place in the precedence is read by the
command, see tests/core/cli/test_config_command.py)."""

from __future__ import annotations

import dataclasses

import pytest

from seqcore import registry
from seqcore.config import ALL_SLOTS, Component, ResolvedConfig, config_name, resolve
from seqcore.config.resolve import (
    PerComponent,
    apply_architecture,
    model_entry_for_arch,
    selected_components,
)
from seqcore.errors import ConfigError, RegistrationError, UnknownComponentError
from seqcore.origin import Origin
from seqcore.registry import Entry

HERE = Origin("module", __name__, None, __name__)


@dataclasses.dataclass
class ModelConfig:
    dim: int = 8
    layers: int = 2
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.dim <= 0:
            raise ConfigError(f"--dim {self.dim} must be positive")


@dataclasses.dataclass
class NeedsData:
    data: str = dataclasses.field(metadata={"positional": True})


@dataclasses.dataclass
class NeedsWidth:
    width: int


MODEL = Component("model", "toy", ModelConfig, HERE)


def arch(fn) -> Entry:
    return Entry(fn.__name__, fn, None, HERE)


def wide(cfg) -> None:
    cfg.dim = getattr(cfg, "dim", 64)
    cfg.dropout = getattr(cfg, "dropout", 0.3)


def test_precedence_default_then_architecture_then_given_values():
    assert resolve([MODEL], None, {})["model"] == ModelConfig(8, 2, 0.1)
    assert resolve([MODEL], arch(wide), {})["model"] == ModelConfig(64, 2, 0.3)
    assert resolve([MODEL], arch(wide), {"dim": 16})["model"] == ModelConfig(16, 2, 0.3)


def test_the_architecture_sees_only_the_given_values_of_its_model():
    seen = {}

    def spy(cfg) -> None:
        seen.update(vars(cfg))

    apply_architecture(arch(spy), MODEL, {"layers": 3, "lr": [0.5]})
    assert seen == {"layers": 3}


def test_an_architecture_reading_an_unset_field_is_told_to_use_getattr():
    def careless(cfg) -> None:
        cfg.dim = cfg.layers * 4

    with pytest.raises(ConfigError) as caught:
        resolve([MODEL], arch(careless), {})
    message = str(caught.value)
    assert "architecture 'careless'" in message and "getattr(cfg, 'layers'" in message
    assert resolve([MODEL], arch(careless), {"layers": 3})["model"].dim == 12


def test_an_architecture_setting_an_undeclared_field_is_an_error_naming_both():
    def stray(cfg) -> None:
        cfg.heads = 4

    with pytest.raises(ConfigError, match="sets heads, which model 'toy' does not declare"):
        resolve([MODEL], arch(stray), {})


def test_missing_required_values_name_the_flag_or_the_argument():
    with pytest.raises(ConfigError, match=r"--width is required by task 'w'"):
        resolve([Component("task", "w", NeedsWidth)], None, {})
    with pytest.raises(ConfigError, match=r"DATA is required by task 'd'"):
        resolve([Component("task", "d", NeedsData)], None, {})


def test_a_config_refusing_a_value_is_a_config_error():
    with pytest.raises(ConfigError, match="--dim -1 must be positive"):
        resolve([MODEL], None, {"dim": -1})


def test_a_shared_field_feeds_every_component_declaring_it():
    task = Component("task", "t", dataclasses.make_dataclass("T", [("dim", int, 4)]))
    configs = resolve([task, MODEL], None, {"dim": 32})
    assert configs["task"].dim == configs["model"].dim == 32
    defaults = ResolvedConfig({}, resolve([task, MODEL], None, {}), {})
    assert defaults.flat_values()["dim"] == PerComponent({"task": 4, "model": 8})
    assert defaults.flat_values()["layers"] == 2


def test_resolved_configs_are_stamped_and_reach_their_roles():
    cfg = ResolvedConfig({"arch": "wide"}, resolve([MODEL], arch(wide), {}), {"model": HERE})
    assert cfg.model.dim == 64
    assert cfg.as_dict()["configs"]["model"] == {"dim": 64, "layers": 2, "dropout": 0.3}
    with pytest.raises(AttributeError):
        cfg.criterion  # noqa: B018


# -- component selection: from the names of --task/--arch/... to the components to configure --
@pytest.fixture
def registries():
    """The global registries, restored after the test (it registers toy components)."""
    saved = [r._state() for r in registry.ALL]
    yield
    for reg, snapshot in zip(registry.ALL, saved):
        reg._restore(snapshot)


def toy_model(cfg) -> None:  # the "model" object of a registry entry: only its config matters
    pass


def test_selected_components_are_the_command_s_own_then_each_selection(registries):
    base = Component("dataset", "dataset", NeedsWidth)
    registry.TASKS.register("toy_task_r", toy_model, NeedsData)
    registry.MODELS.register("toy_model_r", toy_model, ModelConfig)
    registry.ARCHITECTURES.register("toy_model_r_wide", wide, model="toy_model_r")
    selections = {"task": "toy_task_r", "arch": "toy_model_r_wide", "criterion": None}
    components, arch = selected_components(ALL_SLOTS, selections, [base])
    assert [(c.role, c.name, c.config_class) for c in components] == [
        ("dataset", "dataset", NeedsWidth),
        ("task", "toy_task_r", NeedsData),
        ("model", "toy_model_r", ModelConfig),  # the architecture's model is configured
    ]
    assert arch.name == "toy_model_r_wide" and arch.obj is wide
    assert components[2].origin == registry.MODELS.get("toy_model_r").origin
    assert selected_components(ALL_SLOTS, {}, [base]) == ([base], None)


def test_an_unknown_selection_is_one_line_with_did_you_mean(registries):
    registry.TASKS.register("toy_task_r", toy_model, NeedsData)
    with pytest.raises(UnknownComponentError) as caught:
        selected_components(ALL_SLOTS, {"task": "toy_tsak_r"}, [])
    message = str(caught.value)
    assert message.startswith("unknown task 'toy_tsak_r' (--task); did you mean 'toy_task_r'? ")
    assert "available: " in message and "\n" not in message


def test_an_architecture_whose_model_is_not_registered_names_both(registries):
    registry.ARCHITECTURES.register("orphan_arch_r", wide, model="gone_model_r")
    with pytest.raises(UnknownComponentError) as caught:
        model_entry_for_arch("orphan_arch_r")
    origin = registry.ARCHITECTURES.get("orphan_arch_r").origin
    assert str(caught.value).startswith(
        f"architecture 'orphan_arch_r' (from {origin}) belongs to model 'gone_model_r', which "
        "is not registered; unknown model 'gone_model_r'"
    )


def test_a_selection_two_plugins_registered_is_an_error_naming_both(registries):
    registry.OPTIMIZERS.register("twice_r", toy_model)
    registry.OPTIMIZERS.register("twice_r", wide)  # another object under the same name
    with pytest.raises(RegistrationError, match="optimizer 'twice_r' .--optimizer. is registered"):
        selected_components(ALL_SLOTS, {"optimizer": "twice_r"}, [])


def test_slots_name_their_flags_and_defaults():
    assert [s.flag for s in ALL_SLOTS] == [
        "--task", "--arch", "--criterion", "--optimizer", "--lr-scheduler"]  # fmt: skip
    assert {s.key: s.default for s in ALL_SLOTS if s.default} == {
        "task": "translation", "criterion": "cross_entropy", "lr_scheduler": "fixed"}  # fmt: skip


# -- resolve's errors ---------------------------------------------------------------------------
def test_a_config_class_raising_value_or_type_error_is_a_config_error_naming_the_component():
    @dataclasses.dataclass
    class Picky:
        size: int = 1

        def __post_init__(self) -> None:
            if self.size > 10:
                raise ValueError(f"size {self.size} is too large")

    picky = Component("criterion", "picky", Picky, HERE)
    with pytest.raises(ConfigError) as caught:
        resolve([picky], None, {"size": 11})
    assert str(caught.value) == f"criterion 'picky' ({HERE}): size 11 is too large"


def test_a_field_named_like_a_command_option_is_refused():
    clash = Component("task", "t", dataclasses.make_dataclass("T", [("device", str, "cpu")]))
    with pytest.raises(ConfigError, match="declares a field 'device', which is the name of a core"):
        resolve([clash], None, {}, reserved={"device"})


def test_given_values_of_other_components_do_not_leak_into_a_config():
    task = Component("task", "t", dataclasses.make_dataclass("T", [("lr", float, 0.1)]))
    configs = resolve([task, MODEL], None, {"lr": 0.5, "dim": 4})
    assert configs["task"].lr == 0.5 and configs["model"] == ModelConfig(4, 2, 0.1)
    assert config_name(configs["task"]) == "t" and config_name(configs["model"]) == "toy"


def test_flat_values_hold_selections_and_one_value_per_option():
    cfg = ResolvedConfig({"arch": "wide"}, resolve([MODEL], arch(wide), {"layers": 5}), {})
    assert cfg.flat_values() == {"arch": "wide", "dim": 64, "layers": 5, "dropout": 0.3}
