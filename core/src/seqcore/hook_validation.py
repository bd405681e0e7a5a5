"""Checking a plug-in's hook implementations against the specifications, as pytest does.

pluggy on its own ignores a function whose name is not a hook (``seqcore_validation_ends`` would
never be called, silently) and answers an implementation with an argument the specification does
not have by a traceback at registration. The loader asks :func:`hook_problems` first, so that such
a plug-in fails to load with one line that says what to fix, and nothing else is affected.

:func:`watch_hook_calls` turns an exception raised inside a hook implementation into a
:class:`~seqcore.errors.HookError` naming the plug-in, the hook and the exception.
"""

from __future__ import annotations

import difflib
import inspect
import types
from collections.abc import Callable, Sequence
from typing import Any

import pluggy

from seqcore.errors import HookError, SeqcoreError
from seqcore.markers import PROJECT_NAME

HOOK_PREFIX = f"{PROJECT_NAME}_"


def hook_names(manager: pluggy.PluginManager) -> list[str]:
    """The names of every hook specification, sorted."""
    return sorted(
        name
        for name, caller in vars(manager.hook).items()
        if isinstance(caller, pluggy.HookCaller) and caller.spec is not None
    )


def _where(fn: Callable) -> str:
    try:
        lines = inspect.getsourcelines(fn)
        return f" ({inspect.getsourcefile(fn)}:{lines[1]})"
    except (OSError, TypeError):
        return ""


def _argnames(fn: Callable) -> list[str]:
    """The arguments pluggy would pass: those without a default (``self`` of a method is bound)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def hook_problems(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    """What is wrong with the hook implementations of ``plugin`` (a module or an object): every
    ``seqcore_*`` function that is not a hook, and every argument a hook does not have."""
    specs = hook_names(manager)
    problems = []
    for name in sorted(dir(plugin)):
        if not name.startswith(HOOK_PREFIX):
            continue
        fn = getattr(plugin, name, None)
        if not callable(fn) or isinstance(fn, (type, types.ModuleType)):
            continue
        if name not in specs:
            # compared without the prefix, which every name shares
            suffixes = [spec[len(HOOK_PREFIX) :] for spec in specs]
            close = difflib.get_close_matches(name[len(HOOK_PREFIX) :], suffixes, n=1, cutoff=0.6)
            hint = (
                f"did you mean {HOOK_PREFIX}{close[0]}?"
                if close
                else f"the hooks are: {', '.join(specs)}"
            )
            problems.append(f"{name}{_where(fn)} is not a seqcore hook; {hint}")
            continue
        valid = list(getattr(manager.hook, name).spec.argnames)
        wrong = [arg for arg in _argnames(fn) if arg not in valid]
        if wrong:
            listed = ", ".join(repr(a) for a in wrong)
            problems.append(
                f"hook {name}{_where(fn)} asks for {listed}, which it is not given; "
                f"its arguments are: {', '.join(valid)}"
            )
    return problems


def _raised_in(
    exc: BaseException, impls: Sequence[pluggy.HookImpl]
) -> tuple[pluggy.HookImpl, str] | None:
    """The implementation whose code the exception went through, and its file:line there."""
    codes = {getattr(impl.function, "__code__", None): impl for impl in impls}
    tb = exc.__traceback__
    while tb is not None:
        impl = codes.get(tb.tb_frame.f_code)
        if impl is not None:
            return impl, f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return None


def watch_hook_calls(
    manager: pluggy.PluginManager, describe: Callable[[str], str]
) -> Callable[[], None]:
    """Make an exception raised by a hook implementation a :class:`HookError` whose message names
    the plug-in (``describe(pluggy_name)``), the hook and the exception. User errors a hook raises
    on purpose (:class:`SeqcoreError`) and Ctrl-C pass unchanged. Returns the undo function."""

    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Any) -> None:
        pass

    def after(outcome: Any, hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Any) -> None:
        exc = outcome.exception
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, SeqcoreError):
            return
        found = _raised_in(exc, impls)
        who = describe(found[0].plugin_name) if found is not None else "a plug-in"
        where = f" (at {found[1]})" if found is not None else ""
        message = f"{who}: hook {hook_name} raised {type(exc).__name__}: {exc}{where}"
        raise HookError(message.replace("\n", " ")) from exc

    return manager.add_hookcall_monitoring(before, after)
