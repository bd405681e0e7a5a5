"""Commands that plug-ins add through the ``seqcore_add_commands`` hook."""

from __future__ import annotations

import click

from seqcore.errors import RegistrationError

# command name -> the pluggy name of the plug-in that added it ("dist:entry" or "user-dir:path")
COMMAND_OWNERS: dict[str, str] = {}


def add_plugin_commands(group: click.Group, core_commands: set[str]) -> None:
    """Load plug-ins and let each add its commands; a taken name is an error naming both."""
    from seqcore.loader import load_plugins

    manager = load_plugins()
    owners: dict[str, str] = {name: "the core" for name in core_commands}
    for impl in reversed(manager.hook.seqcore_add_commands.get_hookimpls()):
        before = dict(group.commands)
        impl.function(*[{"cli": group}[arg] for arg in impl.argnames])
        for name, command in group.commands.items():
            if before.get(name) is command:
                continue
            if name in owners:
                raise RegistrationError(
                    f"command {name!r} is added by plug-in {impl.plugin_name} but "
                    f"{owners[name]} already provides it"
                )
            owners[name] = f"plug-in {impl.plugin_name}"
            COMMAND_OWNERS[name] = impl.plugin_name
