"""Where a component came from: a distribution (name and version) or a ``--user-dir`` folder.

Registries record an :class:`Origin` for every entry so that error messages and checkpoints can
name the plug-in that provided a component. While the loader imports a plug-in it sets the origin
for everything registered during that import; code imported some other way is traced back to its
distribution through the module's top-level package.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
from collections.abc import Iterator


@dataclasses.dataclass(frozen=True)
class Origin:
    """The plug-in that provided something: ``kind`` is ``"distribution"``, ``"user-dir"`` or
    ``"module"`` (code that belongs to no installed distribution)."""

    kind: str
    name: str
    version: str | None = None
    module: str | None = None

    @property
    def plugin(self) -> str:
        """The key that identifies the plug-in, as ``seqcore plugins`` lists it."""
        return self.name

    def __str__(self) -> str:
        if self.kind == "distribution":
            where = f"{self.name} {self.version}" if self.version else self.name
        elif self.kind == "user-dir":
            where = f"user dir {self.name}"
        else:
            where = f"module {self.name}"
        if self.module and self.kind != "module":
            where += f" (module {self.module})"
        return where

    def as_dict(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


_current: contextvars.ContextVar[Origin | None] = contextvars.ContextVar(
    "seqcore_origin", default=None
)


@contextlib.contextmanager
def loading(origin: Origin) -> Iterator[None]:
    """Attribute everything registered inside the ``with`` block to ``origin``."""
    token = _current.set(origin)
    try:
        yield
    finally:
        _current.reset(token)


@functools.cache
def _distributions_of(top_level: str) -> tuple[str, ...]:
    import importlib_metadata

    return tuple(importlib_metadata.packages_distributions().get(top_level, ()))


def origin_of(module: str) -> Origin:
    """The origin of something defined in ``module`` and registered now."""
    current = _current.get()
    if current is not None:
        return dataclasses.replace(current, module=module)
    dists = _distributions_of(module.partition(".")[0])
    if dists:
        import importlib_metadata

        name = dists[0]
        try:
            version = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            version = None
        return Origin("distribution", name, version, module)
    return Origin("module", module, None, module)
