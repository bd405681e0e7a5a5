"""Hook checks: every ``seqcore_*`` function of a plug-in names a hook, with valid arguments."""

from __future__ import annotations

from typing import Any

from seqcore.hook_validation import hook_problems
from seqcore.loader import plugin_manager
from seqcore.testing.contract import ContractError


def check_hooks(plugin: Any) -> None:
    """Checks of the hook implementations of ``plugin`` (the module or object a plug-in's entry
    point names), as the loader checks them before registering it."""
    problems = hook_problems(plugin_manager(), plugin)
    if problems:
        name = getattr(plugin, "__name__", type(plugin).__name__)
        raise ContractError(
            f"plug-in {name!r}",
            "every seqcore_* function implements a hook with the specification's arguments",
            "; ".join(problems),
            "rename the function or its arguments as said (docs/hooks.md lists the hooks)",
        )
