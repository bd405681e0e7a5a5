"""``seqcore plugins``: what each plug-in provides, the hooks it implements, and load errors."""

from __future__ import annotations

import json
from typing import Any

import click

from seqcore.cli.plugin_options import plugin_options


def plugin_report() -> list[dict[str, Any]]:
    """One record per plug-in (distribution or user dir): version, components by kind (models
    with their architectures), hooks, and errors. Plain data, as ``--json`` prints it."""
    from seqcore.loader import hooks_of, plugins
    from seqcore.registry import ARCHITECTURES, BY_KIND

    records: dict[str, dict[str, Any]] = {}
    for plugin in plugins():
        records[plugin.key] = {
            "name": plugin.key,
            "kind": plugin.kind,
            "version": plugin.version,
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
                "entry_points": [],
                "components": {kind: [] for kind in BY_KIND},
                "hooks": [],
                "errors": [],
            }
        return records[origin.name]

    from seqcore.cli.plugin_commands import COMMAND_OWNERS

    for command, owner in sorted(COMMAND_OWNERS.items()):
        key = owner.split(":", 1)[1] if owner.startswith("user-dir:") else owner.split(":")[0]
        if key in records:
            records[key].setdefault("commands", []).append(command)

    archs_by_model: dict[str, list[str]] = {}
    for arch in ARCHITECTURES.entries():
        archs_by_model.setdefault(arch.extra["model"], []).append(arch.name)
    for kind, registry in BY_KIND.items():
        for entry in registry.entries():
            item: dict[str, Any] = {"name": entry.name, "module": entry.origin.module}
            if kind == "model":
                item["architectures"] = archs_by_model.get(entry.name, [])
            record_for(entry.origin)["components"][kind].append(item)
    # architectures registered by a plug-in for another plug-in's model
    for arch in ARCHITECTURES.entries():
        model = arch.extra["model"]
        owner = record_for(arch.origin)
        if not any(m["name"] == model for m in owner["components"]["model"]):
            owner.setdefault("architectures", []).append({"name": arch.name, "model": model})
    return list(records.values())


def _print_text(report: list[dict[str, Any]]) -> None:
    for record in report:
        version = f" {record['version']}" if record["version"] else ""
        label = "user dir " if record["kind"] == "user-dir" else ""
        click.echo(f"{label}{record['name']}{version}")
        for kind, items in record["components"].items():
            if not items:
                continue
            if kind == "model":
                names = [
                    f"{m['name']} (architectures: {', '.join(m['architectures'])})" for m in items
                ]
            else:
                names = [i["name"] for i in items]
            click.echo(f"  {kind.replace('_', ' ')}s: {', '.join(names)}")
        extra = record.get("architectures")
        if extra:
            names = [f"{a['name']} (model {a['model']})" for a in extra]
            click.echo(f"  architectures: {', '.join(names)}")
        if record.get("commands"):
            click.echo(f"  commands: {', '.join(record['commands'])}")
        if record["hooks"]:
            click.echo(f"  hooks: {', '.join(record['hooks'])}")
        for error in record["errors"]:
            click.echo(f"  error: {error}")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (machine-readable).")
@plugin_options
def plugins_command(as_json: bool, user_dir: tuple[str, ...], strict_plugins: bool | None) -> None:
    """List installed plug-ins and --user-dir modules: version, components, hooks, errors."""
    from seqcore.cli.main import cli
    from seqcore.loader import load_plugins

    load_plugins(user_dir, strict=strict_plugins)
    cli.add_plugin_commands()
    report = plugin_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_text(report)
