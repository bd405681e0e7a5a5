"""``seqcore plugins``: what each plug-in provides, the hooks it implements, and load errors.

Plug-ins are listed by name (distributions, then user dirs), each component by name. A record's
``state`` is ``loaded``, ``failed`` (its ``errors`` say why) or ``disabled``; a component that
another plug-in also registered carries ``clash``, the other origins, and a clashing command is
in the record's ``command_clashes``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from seqcore.cli.main import cli
from seqcore.cli.plugin_commands import CLASHES_OF, COMMAND_OWNERS
from seqcore.cli.plugin_options import plugin_options
from seqcore.loader import hooks_of, load_plugins, plugins
from seqcore.registry import ARCHITECTURES, BY_KIND


def plugin_report() -> list[dict[str, Any]]:
    """One record per plug-in (distribution or user dir): version, components by kind (models
    with their architectures), hooks, and errors. Plain data, as ``--json`` prints it."""
    records: dict[str, dict[str, Any]] = {}
    for plugin in plugins():
        records[plugin.key] = {
            "name": plugin.key,
            "kind": plugin.kind,
            "version": plugin.version,
            "state": plugin.state,
            "entry_points": plugin.entry_points,
            "components": {kind: [] for kind in BY_KIND},
            "hooks": hooks_of(plugin),
            "errors": plugin.errors,
        }

    def record_for(origin) -> dict[str, Any]:
        if origin.name not in records:
            records[origin.name] = {
                "name": origin.name,
                "kind": origin.kind,
                "version": origin.version,
                "state": "loaded",
                "entry_points": [],
                "components": {kind: [] for kind in BY_KIND},
                "hooks": [],
                "errors": [],
            }
        return records[origin.name]

    def key_of(pluggy_name: str) -> str:
        if pluggy_name.startswith("user-dir:"):
            return pluggy_name.split(":", 1)[1]
        return pluggy_name.split(":")[0]

    for command, owner in sorted(COMMAND_OWNERS.items()):
        if key_of(owner) in records:
            records[key_of(owner)].setdefault("commands", []).append(command)
    for owner, messages in sorted(CLASHES_OF.items()):
        if key_of(owner) in records:
            records[key_of(owner)].setdefault("command_clashes", []).extend(messages)

    def clash(registry, entry) -> list[str]:
        return [str(e.origin) for e in registry.clashes(entry.name) if e is not entry]

    archs_by_model: dict[str, list[Any]] = {}
    for arch in ARCHITECTURES.all_entries():
        archs_by_model.setdefault(arch.extra["model"], []).append(arch)
    for kind, registry in BY_KIND.items():
        for entry in registry.all_entries():
            item: dict[str, Any] = {"name": entry.name, "module": entry.origin.module}
            if kind == "model":
                archs = archs_by_model.get(entry.name, [])
                if entry is not registry.get_entry(entry.name):  # a clashing second model:
                    archs = [a for a in archs if a.origin.name == entry.origin.name]  # its own
                item["architectures"] = sorted({a.name for a in archs})
            if clash(registry, entry):
                item["clash"] = clash(registry, entry)
            record_for(entry.origin)["components"][kind].append(item)
    # architectures registered by a plug-in for another plug-in's model
    for arch in ARCHITECTURES.all_entries():
        model = arch.extra["model"]
        owner = record_for(arch.origin)
        if not any(m["name"] == model for m in owner["components"]["model"]):
            item = {"name": arch.name, "model": model}
            if clash(ARCHITECTURES, arch):
                item["clash"] = clash(ARCHITECTURES, arch)
            owner.setdefault("architectures", []).append(item)
        elif clash(ARCHITECTURES, arch):
            owner.setdefault("architecture_clashes", []).append(
                {"name": arch.name, "clash": clash(ARCHITECTURES, arch)}
            )
    return sorted(records.values(), key=lambda r: (r["kind"] != "distribution", r["name"]))


def _clash_note(item: dict[str, Any]) -> str:
    return f" [clash: also {' and '.join(item['clash'])}]" if item.get("clash") else ""


def _print_text(report: list[dict[str, Any]]) -> None:
    for record in report:
        version = f" {record['version']}" if record["version"] else ""
        label = "user dir " if record["kind"] == "user-dir" else ""
        state = f" ({record['state']})" if record["state"] != "loaded" else ""
        click.echo(f"{label}{record['name']}{version}{state}")
        for kind, items in record["components"].items():
            if not items:
                continue
            if kind == "model":
                names = [
                    f"{m['name']} (architectures: {', '.join(m['architectures'])}){_clash_note(m)}"
                    for m in items
                ]
            else:
                names = [i["name"] + _clash_note(i) for i in items]
            click.echo(f"  {kind.replace('_', ' ')}s: {', '.join(names)}")
        extra = record.get("architectures")
        if extra:
            names = [f"{a['name']} (model {a['model']}){_clash_note(a)}" for a in extra]
            click.echo(f"  architectures: {', '.join(names)}")
        for arch in record.get("architecture_clashes", []):
            click.echo(
                f"  clash: architecture {arch['name']} is also from {' and '.join(arch['clash'])}"
            )
        if record.get("commands"):
            click.echo(f"  commands: {', '.join(record['commands'])}")
        for message in record.get("command_clashes", []):
            click.echo(f"  clash: {message}")
        if record["hooks"]:
            click.echo(f"  hooks: {', '.join(record['hooks'])}")
        for error in record["errors"]:
            click.echo(f"  error: {error}")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (machine-readable).")
@plugin_options
def plugins_command(as_json: bool, user_dir: tuple[str, ...], strict_plugins: bool | None) -> None:
    """List installed plug-ins and --user-dir modules: version, components, hooks, errors."""
    load_plugins(user_dir, strict=strict_plugins)
    cli.add_plugin_commands()
    report = plugin_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_text(report)
