"""``--config FILE.toml``: flat TOML files of option values.

Keys are field names as in the dataclasses (``encoder_embed_dim = 512``) or the selectors
(``task``, ``arch``, ``criterion``, ``optimizer``, ``lr_scheduler``). Values have the same meaning
as the flags; flags given on the command line override them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from seqcore.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The values in a TOML config file; a missing or malformed file is a ``ConfigError``."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except OSError as e:
        raise ConfigError(f"--config {path}: cannot read it ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(
                f"{path}: [{key}] is a table; config files are flat (key = value lines only)"
            )
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value else "nan"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if hasattr(value, "name") and hasattr(value, "value"):  # an Enum member
        return _toml_value(value.name)
    return json.dumps(str(value))


def dump_config(values: dict[str, Any]) -> str:
    """A flat TOML document of ``values`` that :func:`load_config_file` reads back; ``None``
    (which TOML cannot express) and a dict of values per component (an option whose
    components keep different defaults) are written as comments."""
    lines = []
    for key, value in values.items():
        if value is None:
            lines.append(f"# {key} = (none)")
        elif isinstance(value, dict):
            each = ", ".join(f"{_toml_value(v)} ({role})" for role, v in value.items())
            lines.append(f"# {key} = {each}: each component's own default")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
