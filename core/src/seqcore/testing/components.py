"""Looking components up as the command line does: installed plug-ins loaded first."""

from __future__ import annotations

from seqcore.loader import load_plugins
from seqcore.registry import Entry, Registry


def entry(registry: Registry, name: str) -> Entry:
    """The registry entry of ``name``, after loading every installed plug-in (idempotent), so
    that a check finds the core's components and the plug-in under test by name."""
    load_plugins()
    return registry.get(name)
