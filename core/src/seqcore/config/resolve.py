"""From selected component names and given values to each component's config instance.

Precedence, lowest first: dataclass default < architecture function < ``--config`` file < flags
given on the command line. The architecture function sees only the values the user gave (file
and flags), fills what it wants fairseq style (``getattr(cfg, "x", default)``), and the user's
values are applied again on top, so flags always win.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from seqcore.config.component import make_config
from seqcore.config.fields import Component, collect_options, config_fields, field_default
from seqcore.config.legacy import LegacyConfig, attach_run, is_legacy
from seqcore.errors import ConfigError, UnknownComponentError
from seqcore.origin import Origin
from seqcore.registry import (
    ARCHITECTURES,
    CRITERIONS,
    LR_SCHEDULERS,
    MODELS,
    OPTIMIZERS,
    TASKS,
    Entry,
    Registry,
)


@dataclasses.dataclass(frozen=True)
class Slot:
    """A selector option (``--task``, ``--arch``, ...) and the registry it picks from."""

    key: str  # the option's field name: --arch -> "arch"; also the config-file key
    role: str  # the role of the selected component: "model" for --arch
    registry: Registry
    default: str | None = None
    short: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


TASK = Slot("task", "task", TASKS, default="translation")
ARCH = Slot("arch", "model", ARCHITECTURES, short="-a")
CRITERION = Slot("criterion", "criterion", CRITERIONS, default="cross_entropy")
OPTIMIZER = Slot("optimizer", "optimizer", OPTIMIZERS)
LR_SCHEDULER = Slot("lr_scheduler", "lr_scheduler", LR_SCHEDULERS, default="fixed")
ALL_SLOTS = (TASK, ARCH, CRITERION, OPTIMIZER, LR_SCHEDULER)


class ArchNamespace:
    """What an architecture function receives: the user's values only, fairseq style."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"{name!r} is not set yet; read it with getattr(cfg, {name!r}, <default>)"
        )


@dataclasses.dataclass
class ResolvedConfig:
    """The selected components and their configs, as the command will use them."""

    selections: dict[str, str]  # slot key -> selected name ("arch" -> "transformer_iwslt_de_en")
    configs: dict[str, Any]  # role -> config instance ("model" -> TransformerConfig(...))
    origins: dict[str, Origin | None]  # role -> where the component came from

    def __post_init__(self) -> None:
        for cfg in self.configs.values():
            if is_legacy(cfg):  # built with a Namespace of this whole configuration
                attach_run(cfg, self)

    def __getattr__(self, role: str) -> Any:
        try:
            return self.__dict__["configs"][role]
        except KeyError:
            raise AttributeError(role) from None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (str, numbers, lists, dicts): safe to store in a checkpoint."""
        return {
            "selections": dict(self.selections),
            "configs": {role: _plain(dataclasses.asdict(c)) for role, c in self.configs.items()},
            "origins": {r: o.as_dict() if o else None for r, o in self.origins.items()},
        }

    def flat_values(self) -> dict[str, Any]:
        """Selections and every option's value in one flat dict (a config file's layout).

        An option that feeds several components holds one value for all of them, except when
        the user gave none and their defaults differ (``max_source_positions``: the task's and
        the architecture's): such an option maps to a :class:`PerComponent` of each role's
        value, which a config file leaves out so that each component keeps its own."""
        by_name: dict[str, dict[str, Any]] = {}
        for role, cfg in self.configs.items():
            for field in dataclasses.fields(cfg):
                if not field.name.startswith("_"):
                    by_name.setdefault(field.name, {})[role] = getattr(cfg, field.name)
        flat: dict[str, Any] = dict(self.selections)
        for name, values in by_name.items():
            first = next(iter(values.values()))
            same = all(_plain(v) == _plain(first) for v in values.values())
            flat[name] = first if same else PerComponent(values)
        return flat


class PerComponent(dict):
    """The values one option has in the components it feeds (role -> value), where they
    differ."""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, str):
        return value.name  # an Enum member
    return value


def model_entry_for_arch(arch_name: str) -> Entry:
    """The registry entry of the model behind architecture ``arch_name``."""
    arch = ARCHITECTURES.get(arch_name)
    model_name = arch.extra["model"]
    if model_name not in MODELS:
        raise UnknownComponentError(
            f"architecture {arch_name!r} (from {arch.origin}) belongs to model {model_name!r}, "
            f"which is not registered; {MODELS.unknown_message(model_name)}"
        )
    return MODELS.get(model_name)


def selected_components(
    slots: tuple[Slot, ...], selections: dict[str, str | None], base: list[Component]
) -> tuple[list[Component], Entry | None]:
    """The components to configure: the command's own (``base``) and each selected one, plus
    the registry entry of the selected architecture."""
    components = list(base)
    arch_entry = None
    for slot in slots:
        name = selections.get(slot.key)
        if name is None:
            continue
        entry = slot.registry.get(name)
        if slot.registry is ARCHITECTURES:
            arch_entry = entry
            entry = model_entry_for_arch(name)
        components.append(Component(slot.role, entry.name, entry.config_class, entry.origin))
    return components, arch_entry


def apply_architecture(arch: Entry, model: Component, explicit: dict[str, Any]) -> dict[str, Any]:
    """The model config values after the architecture function, the user's values on top."""
    names = {f.name for f, _ in config_fields(model.config_class)}
    namespace = ArchNamespace({k: v for k, v in explicit.items() if k in names})
    try:
        arch.obj(namespace)
    except AttributeError as e:
        raise ConfigError(f"architecture {arch.name!r} ({arch.origin}): {e}") from None
    values = dict(vars(namespace))
    unknown = sorted(set(values) - names)
    if unknown and issubclass(model.config_class or object, LegacyConfig):
        # fairseq lets a legacy architecture set any name: those that are not options are set
        # again on the Namespace the model is built with (seqcore.models.build_model)
        values = {k: v for k, v in values.items() if k in names}
    elif unknown:
        raise ConfigError(
            f"architecture {arch.name!r} ({arch.origin}) sets {', '.join(unknown)}, which model "
            f"{model.name!r} does not declare"
        )
    values.update({k: v for k, v in explicit.items() if k in names})
    return values


def resolve(
    components: list[Component], arch: Entry | None, explicit: dict[str, Any], *, reserved=()
) -> dict[str, Any]:
    """Config instances by role, from the values the user gave (already converted)."""
    options = {o.name: o for o in collect_options(components, set(reserved))}
    configs: dict[str, Any] = {}
    for component in components:
        fields = config_fields(component.config_class)
        if arch is not None and component.role == "model":
            values = apply_architecture(arch, component, explicit)
        else:
            values = {f.name: explicit[f.name] for f, _ in fields if f.name in explicit}
        for field, _ in fields:
            if field.name not in values and field_default(field) is dataclasses.MISSING:
                option = options[field.name]
                what = field.name.upper() if option.positional else option.flag
                raise ConfigError(f"{what} is required by {component}")
        try:
            configs[component.role] = make_config(component.config_class, component.name, values)
        except ConfigError:
            raise
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{component}: {e}") from None
    return configs
