"""The options of a set of selected components, merged by field name.

Every field of every selected component's dataclass becomes one option. A field that several
components declare (``max_source_positions`` on the task and the model) is one option feeding
each of them; declaring it with different types (``int`` and ``int | None`` count as one) is an
error naming both components.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from seqcore.config.types import describe, strip_optional
from seqcore.errors import ConfigError
from seqcore.origin import Origin

_MISSING = dataclasses.MISSING


@dataclasses.dataclass(frozen=True)
class Component:
    """One selected component: its role (``task``, ``model``, ...), name and config class."""

    role: str
    name: str
    config_class: type | None
    origin: Origin | None = None

    def __str__(self) -> str:
        where = f" ({self.origin})" if self.origin else ""
        return f"{self.role} {self.name!r}{where}"


@dataclasses.dataclass
class Option:
    """A field as a command-line option, with the components it feeds."""

    name: str
    type: Any
    help: str
    owners: list[Component]
    defaults: dict[str, Any]  # component role -> its default (absent: required)
    positional: bool = False
    short: str | None = None  # a one-letter alias ("-s"), from the field's metadata
    # the value of the flag given alone (fairseq's argparse_const: `--remove-bpe` = subword_nmt)
    flag_value: Any = None
    metavar: str | None = None  # the value's name in the help ("N"); by default its type

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def required(self) -> bool:
        return any(owner.role not in self.defaults for owner in self.owners)

    def default_text(self) -> str | None:
        values = {repr(v) for v in self.defaults.values()}
        if len(values) == 1:
            value = next(iter(self.defaults.values()))
            if isinstance(value, (list, tuple)):
                return ",".join(map(str, value)) if value else "empty"
            return str(value)
        return None


def field_default(field: dataclasses.Field) -> Any:
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:
        return field.default_factory()
    return _MISSING


def config_fields(config_class: type | None) -> list[tuple[dataclasses.Field, Any]]:
    """The public fields of a config dataclass with their resolved type hints."""
    if config_class is None:
        return []
    hints = typing.get_type_hints(config_class)
    return [
        (f, hints.get(f.name, Any))
        for f in dataclasses.fields(config_class)
        if f.init and not f.name.startswith("_")
    ]


def collect_options(components: list[Component], reserved: set[str] = frozenset()) -> list[Option]:
    """The merged options of ``components``, in declaration order."""
    options: dict[str, Option] = {}
    for component in components:
        for field, tp in config_fields(component.config_class):
            if field.name in reserved:
                raise ConfigError(
                    f"{component} declares a field {field.name!r}, which is the name of a "
                    f"core option; rename the field"
                )
            default = field_default(field)
            option = options.get(field.name)
            if option is None:
                option = options[field.name] = Option(
                    field.name,
                    tp,
                    field.metadata.get("help", ""),
                    [],
                    {},
                    bool(field.metadata.get("positional", False)),
                    field.metadata.get("short"),
                    field.metadata.get("flag_value"),
                    field.metadata.get("metavar"),
                )
            elif option.type != tp and strip_optional(option.type) != strip_optional(tp):
                other = option.owners[0]
                raise ConfigError(
                    f"option {option.flag} is declared as {describe(option.type)} by {other} "
                    f"and as {describe(tp)} by {component}; the two components cannot be used "
                    f"together"
                )
            option.owners.append(component)
            if default is not _MISSING:
                option.defaults[component.role] = default
            if not option.help:
                option.help = field.metadata.get("help", "")
            if option.metavar is None:
                option.metavar = field.metadata.get("metavar")
    return list(options.values())
