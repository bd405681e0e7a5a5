"""Discovering and loading plug-ins: installed distributions and ``--user-dir`` folders.

Installed plug-ins advertise a module in the ``seqcore`` entry-point group; importing it registers
its components (through the ``register_*`` decorators) and it is then registered with pluggy, so
any ``@seqcore.hookimpl`` functions in it take part in the hooks. The core's own components come
in through the same path (the ``seqcore`` distribution's ``builtins`` entry point).

Loading happens once per process, on demand: ``import seqcore`` loads nothing. Environment:

- ``SEQCORE_USER_DIR``: user dirs to load, separated by ``os.pathsep`` (added to ``--user-dir``);
  the loader also sets it, so that worker processes load the same user dirs.
- ``SEQCORE_STRICT_PLUGINS=1``: a plug-in that fails to import is fatal (``--strict-plugins``).
- ``SEQCORE_DISABLE_PLUGIN_AUTOLOAD=1``: load only the core's built-ins and user dirs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import logging
import os
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pluggy

from seqcore import hookspecs, origin
from seqcore.errors import PluginLoadError, RegistrationError
from seqcore.markers import PROJECT_NAME
from seqcore.registry import add_unknown_name_note

ENTRY_POINT_GROUP = "seqcore"
CORE_DISTRIBUTION = "seqcore-toolkit"
ENV_USER_DIR = "SEQCORE_USER_DIR"
ENV_STRICT = "SEQCORE_STRICT_PLUGINS"
ENV_NO_AUTOLOAD = "SEQCORE_DISABLE_PLUGIN_AUTOLOAD"

log = logging.getLogger("seqcore.plugins")


@dataclasses.dataclass
class Plugin:
    """A loaded (or failed) plug-in: a distribution or a user dir."""

    key: str  # distribution name or user dir path: what Origin.name holds
    kind: str  # "distribution" or "user-dir"
    version: str | None = None
    entry_points: list[str] = dataclasses.field(default_factory=list)
    modules: list[Any] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _State:
    manager: pluggy.PluginManager
    plugins: dict[str, Plugin] = dataclasses.field(default_factory=dict)
    entry_points_loaded: bool = False
    user_dirs: list[str] = dataclasses.field(default_factory=list)


_state: _State | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process's pluggy manager (created with the hook specifications on first use)."""
    return _get_state().manager


def _get_state() -> _State:
    global _state
    if _state is None:
        manager = pluggy.PluginManager(PROJECT_NAME)
        manager.add_hookspecs(hookspecs)
        _state = _State(manager)
        add_unknown_name_note(_failed_plugins_note)
    return _state


def plugins() -> list[Plugin]:
    """Every plug-in seen so far, loaded or failed, in load order."""
    return list(_get_state().plugins.values())


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def env_user_dirs() -> list[str]:
    return [p for p in os.environ.get(ENV_USER_DIR, "").split(os.pathsep) if p]


def load_plugins(
    user_dirs: Iterable[str] = (), *, strict: bool | None = None
) -> pluggy.PluginManager:
    """Load installed plug-ins (once) and the given user dirs (each once); idempotent."""
    state = _get_state()
    strict = _env_flag(ENV_STRICT) if strict is None else strict
    if not state.entry_points_loaded:
        state.entry_points_loaded = True
        _load_entry_points(state, strict, core_only=_env_flag(ENV_NO_AUTOLOAD))
    for path in [*env_user_dirs(), *user_dirs]:
        load_user_dir(path)
    return state.manager


def _failure(state: _State, plugin: Plugin, what: str, exc: BaseException, strict: bool) -> None:
    message = f"{what} failed to load: {type(exc).__name__}: {exc}".replace("\n", " ")
    plugin.errors.append(message)
    if strict:
        raise PluginLoadError(message) from exc
    log.warning("%s (use --strict-plugins to make this fatal)", message)


def _load_entry_points(state: _State, strict: bool, core_only: bool) -> None:
    import importlib_metadata

    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist_name = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else None
        if core_only and dist_name != CORE_DISTRIBUTION:
            continue
        plugin = state.plugins.setdefault(dist_name, Plugin(dist_name, "distribution", version))
        plugin.entry_points.append(f"{ep.name} = {ep.value}")
        where = origin.Origin("distribution", dist_name, version, ep.module)
        what = f"plug-in {dist_name} {version} (entry point {ep.name!r} -> {ep.value})"
        try:
            with origin.loading(where):
                obj = ep.load()
        except RegistrationError:
            raise
        except Exception as exc:
            _failure(state, plugin, what, exc, strict)
            continue
        _register(state, plugin, obj, f"{dist_name}:{ep.name}")


def _register(state: _State, plugin: Plugin, obj: Any, name: str) -> None:
    plugin.modules.append(obj)
    if state.manager.is_registered(obj):
        return
    state.manager.register(obj, name=name)


def load_user_dir(path: str | os.PathLike) -> types.ModuleType:
    """Import a user dir (a package folder with ``__init__.py``, or one ``.py`` file), as
    fairseq's ``--user-dir`` does; loading the same path again returns the same module."""
    state = _get_state()
    resolved = Path(path).expanduser().resolve()
    key = str(resolved)
    plugin = state.plugins.get(key)
    if plugin is not None and plugin.modules:
        return plugin.modules[0]
    if resolved.is_dir():
        init = resolved / "__init__.py"
        if not init.is_file():
            raise PluginLoadError(f"--user-dir {path}: the folder has no __init__.py")
        module_name, location, search = resolved.name, init, [str(resolved)]
    elif resolved.suffix == ".py" and resolved.is_file():
        module_name, location, search = resolved.stem, resolved, None
    else:
        raise PluginLoadError(f"--user-dir {path}: no such folder or .py file")
    existing = sys.modules.get(module_name)
    if existing is not None and _module_path(existing) != location:
        # The name is taken by another module (a folder called "utils", say): use a private one.
        digest = hashlib.sha1(key.encode()).hexdigest()[:8]
        module_name = f"_seqcore_user_dir_{module_name}_{digest}"
    plugin = state.plugins.setdefault(key, Plugin(key, "user-dir"))
    plugin.entry_points.append(module_name)
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(
            module_name, location, submodule_search_locations=search
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            with origin.loading(origin.Origin("user-dir", key, None, module_name)):
                spec.loader.exec_module(module)
        except RegistrationError:
            del sys.modules[module_name]
            raise
        except Exception as exc:
            del sys.modules[module_name]
            message = f"--user-dir {path}: importing it failed: {type(exc).__name__}: {exc}"
            plugin.errors.append(message)
            raise PluginLoadError(message.replace("\n", " ")) from exc
    _register(state, plugin, module, f"user-dir:{key}")
    if key not in state.user_dirs:
        state.user_dirs.append(key)
        os.environ[ENV_USER_DIR] = os.pathsep.join(dict.fromkeys([*env_user_dirs(), key]))
    return module


def _module_path(module: types.ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _failed_plugins_note(kind: str, name: str) -> str:
    if _state is None:
        return ""
    failed = [e for p in _state.plugins.values() for e in p.errors]
    if not failed:
        return ""
    return "; note: " + "; ".join(failed)


def discovered_distributions() -> list[tuple[str, str]]:
    """(name, version) of every distribution advertising a ``seqcore`` entry point, read from
    metadata alone: nothing is imported."""
    import importlib_metadata

    seen: dict[str, str] = {}
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None and ep.dist.name != CORE_DISTRIBUTION:
            seen.setdefault(ep.dist.name, ep.dist.version)
    return sorted(seen.items())


def hooks_of(plugin: Plugin) -> list[str]:
    """The names of the hooks a plug-in's modules implement."""
    manager = plugin_manager()
    names: set[str] = set()
    for module in plugin.modules:
        for caller in manager.get_hookcallers(module) or ():
            names.add(caller.name)
    return sorted(names)
