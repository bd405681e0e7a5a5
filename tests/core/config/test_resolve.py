"""From given values to config instances: precedence, architecture functions, required fields
and the errors that name what is at fault (seqcore.config.resolve, in-process)."""

from __future__ import annotations

import dataclasses

import pytest

from seqcore.config import Component, ResolvedConfig, resolve
from seqcore.config.resolve import PerComponent, apply_architecture
from seqcore.errors import ConfigError
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
