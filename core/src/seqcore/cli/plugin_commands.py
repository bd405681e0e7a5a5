"""Commands that plug-ins add through the ``seqcore_add_commands`` hook.

A command name two plug-ins add (or one a plug-in adds that the core has) is a clash that stays
local: running that command is the error naming both, every other command works, and ``seqcore
plugins`` shows it. The core's own commands always win.
"""

from __future__ import annotations

import click

from seqcore.loader import load_plugins, plugin_failed

# command name -> the pluggy name of the plug-in that added it ("dist:entry" or "user-dir:path")
COMMAND_OWNERS: dict[str, str] = {}
# command name -> the error for running it, when more than one provider added it
COMMAND_CLASHES: dict[str, str] = {}
# pluggy name -> messages about the commands it added that clash
CLASHES_OF: dict[str, list[str]] = {}


def add_plugin_commands(group: click.Group, core_commands: set[str]) -> None:
    """Load plug-ins and let each add its commands; a taken name is an error naming both."""
    manager = load_plugins()
    owners: dict[str, str] = {name: "the core" for name in core_commands}
    for impl in reversed(manager.hook.seqcore_add_commands.get_hookimpls()):
        before = dict(group.commands)
        try:
            impl.function(*[{"cli": group}[arg] for arg in impl.argnames])
        except Exception as exc:  # that plug-in's commands are missing; the others work
            group.commands = before
            plugin_failed(impl.plugin_name, "seqcore_add_commands", exc)
            continue
        for name, command in list(group.commands.items()):
            if before.get(name) is command:
                continue
            if name in owners:
                message = (
                    f"command {name!r} is added by plug-in {impl.plugin_name} but "
                    f"{owners[name]} already provides it; disable one of them (seqcore "
                    "--disable-plugin NAME, or SEQCORE_DISABLE_PLUGINS=NAME)"
                )
                CLASHES_OF.setdefault(impl.plugin_name, []).append(message)
                if name in COMMAND_OWNERS:
                    CLASHES_OF.setdefault(COMMAND_OWNERS[name], []).append(message)
                    COMMAND_CLASHES[name] = message
                    group.commands[name] = before[name]  # the first one stays listed
                else:
                    group.commands.pop(name)  # a core command: the core's wins
                continue
            owners[name] = f"plug-in {impl.plugin_name}"
            COMMAND_OWNERS[name] = impl.plugin_name
