"""Discovering and loading plug-ins: installed distributions and ``--user-dir`` folders.

Installed plug-ins advertise a module in the ``seqcore`` entry-point group; importing it registers
its components (through the ``register_*`` decorators) and it is then registered with pluggy, so
any ``@seqcore.hookimpl`` functions in it take part in the hooks. The core's own components come
in through the same path (the ``seqcore-toolkit`` distribution's ``builtins`` entry point).

A plug-in fails to load, and leaves none of its components registered, when its import raises
or when its hook implementations do not match the specifications (see
:mod:`seqcore.hook_validation`); the failure is one warning line naming the distribution, the
entry point, what went wrong and the file and line in the plug-in's code where it was raised.

Loading happens once per process, on demand: ``import seqcore`` loads nothing. Environment:

- ``SEQCORE_USER_DIR``: user dirs to load, separated by ``os.pathsep`` (added to ``--user-dir``);
  the loader also sets it, so that worker processes load the same user dirs.
- ``SEQCORE_STRICT_PLUGINS=1``: a plug-in that fails to load is fatal (``--strict-plugins``).
- ``SEQCORE_PLUGINS=name[,name...]``: load only these plug-ins (and always the core's built-ins).
- ``SEQCORE_DISABLE_PLUGINS=name[,name...]``: skip these (``seqcore --disable-plugin NAME``).
  Names are distribution names or entry-point names.
- ``SEQCORE_DISABLE_PLUGIN_AUTOLOAD=1``: load only the core's built-ins and user dirs.
- ``SEQCORE_DEBUG=1``: log the full traceback of every plug-in load failure (``seqcore --debug``).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import importlib.util
import logging
import os
import re
import sys
import traceback
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pluggy

from seqcore import hookspecs, origin
from seqcore.errors import ConfigError, PluginLoadError
from seqcore.hook_validation import hook_problems, watch_hook_calls
from seqcore.markers import PROJECT_NAME
from seqcore.registry import add_unknown_name_note, undone_on_error

ENTRY_POINT_GROUP = "seqcore"
CORE_DISTRIBUTION = "seqcore-toolkit"
ENV_USER_DIR = "SEQCORE_USER_DIR"
ENV_STRICT = "SEQCORE_STRICT_PLUGINS"
ENV_NO_AUTOLOAD = "SEQCORE_DISABLE_PLUGIN_AUTOLOAD"
ENV_ONLY = "SEQCORE_PLUGINS"
ENV_DISABLE = "SEQCORE_DISABLE_PLUGINS"
ENV_DEBUG = "SEQCORE_DEBUG"

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
    disabled_by: str | None = None  # why it was skipped (the switch), when it was

    @property
    def disabled(self) -> bool:
        return self.disabled_by is not None

    @property
    def state(self) -> str:
        """``"disabled"``, ``"failed"`` or ``"loaded"``."""
        return "disabled" if self.disabled else "failed" if self.errors else "loaded"

    def describe(self) -> str:
        label = "plug-in" if self.kind == "distribution" else "user dir"
        return f"{label} {self.key} {self.version}" if self.version else f"{label} {self.key}"


@dataclasses.dataclass
class _State:
    manager: pluggy.PluginManager
    plugins: dict[str, Plugin] = dataclasses.field(default_factory=dict)
    by_pluggy_name: dict[str, Plugin] = dataclasses.field(default_factory=dict)
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
        watch_hook_calls(manager, _describe_pluggy_name)
        add_unknown_name_note(_failed_plugins_note)
    return _state


def _describe_pluggy_name(name: str) -> str:
    plugin = _get_state().by_pluggy_name.get(name)
    return plugin.describe() if plugin is not None else f"plug-in {name}"


def plugins() -> list[Plugin]:
    """Every plug-in seen so far, loaded or failed, in load order."""
    return list(_get_state().plugins.values())


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def debug_enabled() -> bool:
    """Whether full tracebacks are wanted (``seqcore --debug`` or ``SEQCORE_DEBUG=1``)."""
    return _env_flag(ENV_DEBUG)


def _env_names(name: str) -> list[str]:
    return [n.strip() for n in os.environ.get(name, "").split(",") if n.strip()]


def disable_plugins(names: Iterable[str]) -> None:
    """Skip these plug-ins (``--disable-plugin``); recorded in ``SEQCORE_DISABLE_PLUGINS`` so that
    worker processes skip them too. Takes effect for plug-ins not loaded yet."""
    merged = dict.fromkeys([*_env_names(ENV_DISABLE), *names])
    if merged:
        os.environ[ENV_DISABLE] = ",".join(merged)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


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


class HookValidationError(Exception):
    """A plug-in's hook implementations do not match the specifications (a load failure)."""


def _raised_at(exc: BaseException, roots: list[Path]) -> str | None:
    """file:line of the innermost traceback frame inside the plug-in's own files (``roots``)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()  # the roots are resolved too (symlinked folders)
        if any(path == root or root in path.parents for root in roots):
            return f"{frame.filename}:{frame.lineno}"
    return None


def _module_roots(module: str) -> list[Path]:
    """Where the top-level package (or module) of ``module`` lives; [] when it cannot be found."""
    try:
        spec = importlib.util.find_spec(module.partition(".")[0])
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p).resolve() for p in spec.submodule_search_locations]
    return [Path(spec.origin).resolve()] if spec.origin else []


def _failure_message(what: str, exc: BaseException, roots: list[Path]) -> str:
    if isinstance(exc, HookValidationError):
        return f"{what} failed to load: {exc}".replace("\n", " ")
    where = _raised_at(exc, roots)
    at = f" (at {where})" if where else ""
    return f"{what} failed to load: {type(exc).__name__}: {exc}{at}".replace("\n", " ")


def _failure(plugin: Plugin, message: str, exc: BaseException, strict: bool) -> None:
    plugin.errors.append(message)
    if strict:
        raise PluginLoadError(message) from exc
    traceback_hint = not debug_enabled() and not isinstance(exc, HookValidationError)
    hint = "; --debug shows the traceback" if traceback_hint else ""
    log.warning(
        "%s (use --strict-plugins to make this fatal%s)",
        message,
        hint,
        exc_info=exc if debug_enabled() and not isinstance(exc, HookValidationError) else None,
    )


def plugin_failed(pluggy_name: str, hook: str, exc: Exception) -> None:
    """Record that a plug-in's hook raised where seqcore can go on without it (as when adding
    commands): one warning line, or the error under --strict-plugins."""
    plugin = _get_state().by_pluggy_name.get(pluggy_name)
    roots = [r for m in (plugin.modules if plugin else []) for r in _module_roots(m.__name__)]
    where = _raised_at(exc, roots)
    at = f" (at {where})" if where else ""
    message = (
        f"{_describe_pluggy_name(pluggy_name)}: hook {hook} raised {type(exc).__name__}: {exc}{at}"
    )
    if plugin is None:
        raise PluginLoadError(message.replace("\n", " ")) from exc
    _failure(plugin, message.replace("\n", " "), exc, _env_flag(ENV_STRICT))


def _selection(eps: list[Any]) -> tuple[set[str] | None, set[str]]:
    """The plug-ins SEQCORE_PLUGINS keeps (None: all) and those SEQCORE_DISABLE_PLUGINS skips,
    as canonical names; a name that matches no plug-in is an error with did-you-mean."""
    known: dict[str, str] = {}  # canonical name -> how to spell it
    for ep in eps:
        dist = ep.dist.name if ep.dist else "?"
        if _canonical(dist) != _canonical(CORE_DISTRIBUTION):
            known.setdefault(_canonical(dist), dist)
            known.setdefault(_canonical(ep.name), ep.name)
    chosen: dict[str, set[str]] = {}
    for variable in (ENV_ONLY, ENV_DISABLE):
        names = _env_names(variable)
        flag = "--disable-plugin / " if variable == ENV_DISABLE else ""
        for name in names:
            if _canonical(name) == _canonical(CORE_DISTRIBUTION):
                raise ConfigError(
                    f"{flag}{variable}: {name!r} is the core; its built-ins are always loaded"
                )
            if _canonical(name) not in known:
                close = difflib.get_close_matches(name, sorted(known.values()), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                installed = ", ".join(sorted(set(known.values()))) or "none"
                raise ConfigError(
                    f"{flag}{variable}: no plug-in is called {name!r}{hint} "
                    f"(installed plug-ins and entry points: {installed})"
                )
        chosen[variable] = {_canonical(n) for n in names}
    only = chosen[ENV_ONLY] if _env_names(ENV_ONLY) else None
    return only, chosen[ENV_DISABLE]


def _load_order(ep: Any) -> tuple[bool, str, str]:
    """The core distribution first, then the others by distribution and entry point name."""
    dist_name = ep.dist.name if ep.dist else "?"
    return (_canonical(dist_name) != _canonical(CORE_DISTRIBUTION), dist_name, ep.name)


def _load_entry_points(state: _State, strict: bool, core_only: bool) -> None:
    import importlib_metadata

    eps = list(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP))
    only, disabled = _selection(eps)
    # The core's built-ins first: a plug-in that imports one of them (a task specialising
    # ``translation``) must not have it attributed to itself by loading before the core.
    for ep in sorted(eps, key=_load_order):
        dist_name = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else None
        is_core = _canonical(dist_name) == _canonical(CORE_DISTRIBUTION)
        plugin = state.plugins.setdefault(dist_name, Plugin(dist_name, "distribution", version))
        plugin.entry_points.append(f"{ep.name} = {ep.value}")
        names = {_canonical(dist_name), _canonical(ep.name)}
        if is_core:
            pass
        elif core_only:
            plugin.disabled_by = f"{ENV_NO_AUTOLOAD} is set"
        elif only is not None and not names & only:
            plugin.disabled_by = f"it is not in {ENV_ONLY}"
        elif names & disabled:
            plugin.disabled_by = f"--disable-plugin / {ENV_DISABLE}"
        if plugin.disabled:
            continue
        where = origin.Origin("distribution", dist_name, version, ep.module)
        what = f"plug-in {dist_name} {version} (entry point {ep.name!r} -> {ep.value})"
        pluggy_name = f"{dist_name}:{ep.name}"
        try:
            with undone_on_error(), origin.loading(where):
                obj = ep.load()
                _register(state, plugin, obj, pluggy_name)
        except Exception as exc:
            _failure(plugin, _failure_message(what, exc, _module_roots(ep.module)), exc, strict)


def _register(state: _State, plugin: Plugin, obj: Any, name: str) -> None:
    """Check ``obj``'s hooks and register it with pluggy; raises (registering nothing) when its
    hooks do not match the specifications."""
    if not state.manager.is_registered(obj):
        problems = hook_problems(state.manager, obj)
        if problems:
            raise HookValidationError("; ".join(problems))
        state.manager.register(obj, name=name)
    state.by_pluggy_name[name] = plugin
    plugin.modules.append(obj)


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
    created = module is None
    try:
        with undone_on_error(), origin.loading(origin.Origin("user-dir", key, None, module_name)):
            if module is None:
                spec = importlib.util.spec_from_file_location(
                    module_name, location, submodule_search_locations=search
                )
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            _register(state, plugin, module, f"user-dir:{key}")
    except Exception as exc:
        if created:
            sys.modules.pop(module_name, None)
        what = f"--user-dir {path}"
        if isinstance(exc, HookValidationError):
            message = f"{what}: {exc}"
        else:
            where = _raised_at(exc, [resolved])
            at = f" (at {where})" if where else ""
            message = f"{what}: importing it failed: {type(exc).__name__}: {exc}{at}"
        plugin.errors.append(message)
        raise PluginLoadError(message.replace("\n", " ")) from exc
    if key not in state.user_dirs:
        state.user_dirs.append(key)
        os.environ[ENV_USER_DIR] = os.pathsep.join(dict.fromkeys([*env_user_dirs(), key]))
    return module


def _module_path(module: types.ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _failed_plugins_note(kind: str, name: str) -> str:
    """For an unknown component name: the plug-ins that might have provided it, failed or off."""
    if _state is None:
        return ""
    notes = [e for p in _state.plugins.values() for e in p.errors]
    disabled: dict[str, list[str]] = {}
    for plugin in _state.plugins.values():
        if plugin.disabled:
            disabled.setdefault(plugin.disabled_by or "", []).append(plugin.key)
    notes += [f"not loaded ({why}): {', '.join(keys)}" for why, keys in disabled.items()]
    return "; note: " + "; ".join(notes) if notes else ""


def _find_plugin(key: str) -> Plugin | None:
    if _state is None:
        return None
    for plugin in _state.plugins.values():
        if _canonical(plugin.key) == _canonical(key) or plugin.key == key:
            return plugin
    return None


def why_unavailable(where: origin.Origin | None) -> str:
    """Why a component that ``where`` provided (as a checkpoint recorded it) is not registered
    here, and what to do: the distribution is not installed, is disabled, failed to load, or is
    installed at another version; the user dir is missing, failed to load or no longer defines it.
    Call after loading plug-ins."""
    if where is None:
        return "which is not installed here; install the plug-in that provides it"
    if where.kind == "user-dir":
        plugin = _find_plugin(where.name)
        if plugin is not None and plugin.errors:
            return f"which failed to load here: {plugin.errors[0]}"
        if plugin is not None and plugin.modules:
            return "which no longer defines it"
        if not Path(where.name).exists():
            return f"which is missing here (no such folder or .py file: {where.name})"
        return f"which is not installed here; pass --user-dir {where.name}"
    if where.kind != "distribution":
        return f"which is not installed here; install the plug-in that provides {where.name}"
    if where.name == "seqcore":  # the core's name before seqcore-toolkit (PyPI's is unrelated)
        where = dataclasses.replace(where, name=CORE_DISTRIBUTION)
    import importlib_metadata

    pinned = f"'{where.name}=={where.version}'" if where.version else where.name
    try:
        installed = importlib_metadata.version(where.name)
    except importlib_metadata.PackageNotFoundError:
        return f"which is not installed here; pip install {pinned}"
    plugin = _find_plugin(where.name)
    if plugin is not None and plugin.disabled:
        return (
            f"which is installed here ({where.name} {installed}) but not loaded: "
            f"{plugin.disabled_by}"
        )
    if plugin is not None and plugin.errors:
        return f"which is installed here but failed to load: {plugin.errors[0]}"
    if where.version and installed != where.version:
        return (
            f"but {where.name} {installed} is installed here, which does not provide it; "
            f"pip install {pinned}"
        )
    return f"which is installed here ({where.name} {installed}) but does not provide it"


def discovered_distributions() -> list[tuple[str, str]]:
    """(name, version) of every distribution advertising a ``seqcore`` entry point, read from
    metadata alone: nothing is imported."""
    import importlib_metadata

    seen: dict[str, str] = {}
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None and _canonical(ep.dist.name) != _canonical(CORE_DISTRIBUTION):
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
