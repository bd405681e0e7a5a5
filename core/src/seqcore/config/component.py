"""Config instances of components, stamped with the name they were selected by.

fairseq's configs carry their component's name in ``_name`` so that ``task.build_model(cfg)``
knows which model to build; seqcore configs do the same with plain dataclasses.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class EmptyConfig:
    """The config of a component that declares no dataclass."""


def make_config(config_class: type | None, name: str, values: dict[str, Any] | None = None) -> Any:
    """An instance of ``config_class`` (or :class:`EmptyConfig`) from ``values``, with ``_name``."""
    cfg = (config_class or EmptyConfig)(**(values or {}))
    object.__setattr__(cfg, "_name", name)
    return cfg


def config_name(cfg: Any) -> str | None:
    """The component name a config was made for (``None`` for a hand-made config)."""
    return getattr(cfg, "_name", None)
