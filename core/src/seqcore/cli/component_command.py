"""A click command whose options come from the dataclasses of the components the user selects.

Before click parses the arguments, the command reads the selectors (``--task``, ``--arch``,
``--criterion``, ``--optimizer``, ``--lr-scheduler``), ``--user-dir`` and ``--config`` from them,
loads plug-ins, and only then builds its options from the selected components' fields. So
``seqcore train --arch transformer --help`` lists that architecture's options, and no list of
choices is fixed before every plug-in is loaded.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from typing import Any

import click

from seqcore.cli.plugin_options import plugin_params
from seqcore.config.fields import Component, Option, collect_options
from seqcore.config.files import load_config_file
from seqcore.config.resolve import (
    ALL_SLOTS,
    ResolvedConfig,
    Slot,
    apply_architecture,
    resolve,
    selected_components,
)
from seqcore.config.types import ConversionError, choices_of, convert, describe, is_bool
from seqcore.errors import ConfigError
from seqcore.loader import load_plugins

_PLAN = "seqcore.plan"


class FieldType(click.ParamType):
    """A click type converting with :func:`seqcore.config.types.convert`."""

    def __init__(self, tp: Any) -> None:
        self.tp = tp
        self.name = describe(tp)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return convert(self.tp, value)
        except ConversionError as e:
            self.fail(str(e), param, ctx)


@dataclasses.dataclass
class _Prescan:
    user_dirs: list[str]
    strict: bool | None
    config: str | None
    selections: dict[str, str]


def prescan(args: Sequence[str], slots: Sequence[Slot]) -> _Prescan:
    """Read the options that decide which other options exist, before click parses."""
    wanted: dict[str, str] = {"--user-dir": "user_dir", "--config": "config"}
    shorts: dict[str, str] = {}
    for slot in slots:
        wanted[slot.flag] = slot.key
        if slot.short:
            shorts[slot.short] = slot.key
    found: dict[str, list[str]] = {}
    strict = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        key = value = None
        if arg in wanted or arg in shorts:
            key = wanted.get(arg) or shorts[arg]
            value = args[i + 1] if i + 1 < len(args) else None
            i += 1
        elif arg.startswith("--") and "=" in arg and arg.split("=", 1)[0] in wanted:
            flag, value = arg.split("=", 1)
            key = wanted[flag]
        elif arg[:2] in shorts and len(arg) > 2:
            key, value = shorts[arg[:2]], arg[2:]
        elif arg == "--strict-plugins":
            strict = True
        if key is not None and value is not None:
            found.setdefault(key, []).append(value)
        i += 1
    selections = {s.key: found[s.key][-1] for s in slots if s.key in found}
    config = found["config"][-1] if "config" in found else None
    return _Prescan(found.get("user_dir", []), strict, config, selections)


@dataclasses.dataclass
class _Plan:
    selections: dict[str, str | None]
    components: list[Component]
    arch: Any
    options: list[Option]
    file_values: dict[str, Any]
    shown_defaults: dict[str, dict[str, Any]]  # option -> role -> default shown in help


class ComponentCommand(click.Command):
    """A command configured by selected components; its callback receives ``cfg``, a
    :class:`~seqcore.config.ResolvedConfig`, plus the command's own ``params``."""

    def __init__(
        self,
        name: str,
        callback: Callable[..., Any],
        *,
        slots: Sequence[Slot] = ALL_SLOTS,
        base: Sequence[Component] = (),
        params: Sequence[click.Parameter] = (),
        **attrs: Any,
    ) -> None:
        self.slots = tuple(slots)
        self.base = list(base)
        self.own_params = list(params)
        config_option = click.Option(
            ["--config"],
            metavar="FILE.toml",
            help="Option values from a flat TOML file (key = value, keys as the options with "
            "underscores); flags given on the command line override it.",
        )
        self.fixed_params = [*self.own_params, config_option, *plugin_params()]
        attrs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(name, callback=callback, params=list(self.fixed_params), **attrs)

    def reserved_names(self) -> set[str]:
        """The names no component field may take: the command's own parameters (``--config``,
        ``--user-dir``, ...) and its selectors (``task``, ``arch``, ...). docs/plugins/options.md
        lists them."""
        return {p.name for p in self.fixed_params} | {s.key for s in self.slots}

    # -- building the options ------------------------------------------------------------------
    def _selector_param(self, slot: Slot) -> click.Option:
        names = list(slot.registry)
        installed = ", ".join(names) if names else "(none installed)"
        text = f"The {slot.registry.kind} to use: {installed}."
        if slot.default:
            text += f"  [default: {slot.default}]"
        decls = [slot.flag] + ([slot.short] if slot.short else [])
        return click.Option(decls, default=None, metavar="NAME", help=text)

    def _option_param(self, option: Option, shown: dict[str, Any]) -> click.Parameter:
        if option.positional:
            return click.Argument([option.name], required=False, type=FieldType(option.type))
        help_text = option.help
        values = {repr(v): v for v in shown.values() if v is not None}
        if len(values) == 1:
            help_text += f"  [default: {_show(next(iter(values.values())))}]"
        elif values:
            listed = ", ".join(f"{_show(v)} ({r})" for r, v in shown.items() if v is not None)
            help_text += f"  [default: {listed}]"
        elif option.required:
            help_text += "  [required]"
        dashed = option.name.replace("_", "-")
        if is_bool(option.type):
            # fairseq's negative switches (no_save) turn off as --save, not --no-no-save
            off = dashed[3:] if dashed.startswith("no-") else f"no-{dashed}"
            return click.Option([f"--{dashed}/--{off}"], default=None, help=help_text)
        alone: dict[str, Any] = {}
        if option.flag_value is not None:
            # Only then: click takes any flag_value given, None included, to mean that a value
            # starting with "-" is the next option, which would make "--patience -1" an error.
            alone = {"is_flag": False, "flag_value": option.flag_value}
            value = option.flag_value
            if isinstance(value, str) and value != value.strip():
                value = repr(value)  # quoted where its spaces matter ("@@ ")
            help_text += f"  [alone: {_show(value)}]"
        return click.Option(
            [option.flag] + ([option.short] if option.short else []),
            type=FieldType(option.type),
            default=None,
            metavar=option.metavar or _metavar(option.type),
            help=help_text,
            **alone,
        )

    def _plan(self, args: Sequence[str]) -> _Plan:
        scan = prescan(args, self.slots)
        load_plugins(scan.user_dirs, strict=scan.strict)
        file_values = load_config_file(scan.config) if scan.config else {}
        selections: dict[str, str | None] = {}
        for slot in self.slots:
            value = scan.selections.get(slot.key, file_values.get(slot.key, slot.default))
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{scan.config}: {slot.key} must be a string, got {value!r}")
            selections[slot.key] = value
        components, arch = selected_components(self.slots, selections, self.base)
        options = collect_options(components, self.reserved_names())
        converted = self._convert_file_values(scan.config, file_values, options)
        shown = {o.name: {r: v for r, v in o.defaults.items()} for o in options}
        model = next((c for c in components if c.role == "model"), None)
        if arch is not None and model is not None:
            for key, value in apply_architecture(arch, model, {}).items():
                shown[key]["model"] = value
        return _Plan(selections, components, arch, options, converted, shown)

    def _convert_file_values(
        self, path: str | None, values: dict[str, Any], options: list[Option]
    ) -> dict[str, Any]:
        by_name = {o.name: o for o in options}
        selector_keys = {s.key for s in self.slots}
        converted = {}
        for key, value in values.items():
            if key in selector_keys:
                continue
            option = by_name.get(key)
            if option is None:
                close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{path}: unknown key {key!r} for the selected components{hint}")
            try:
                converted[key] = convert(option.type, value)
            except ConversionError as e:
                raise ConfigError(f"{path}: {key}: {e}") from None
        return converted

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        plan = self._plan(args)
        ctx.meta[_PLAN] = plan
        self.params = [
            *self.fixed_params,
            *(self._selector_param(s) for s in self.slots),
            *(self._option_param(o, plan.shown_defaults[o.name]) for o in plan.options),
        ]
        return super().parse_args(ctx, args)

    # -- running -------------------------------------------------------------------------------
    def invoke(self, ctx: click.Context) -> Any:
        cfg = self.resolved_config(ctx)
        own = {p.name: ctx.params.get(p.name) for p in self.own_params}
        return ctx.invoke(self.callback, cfg=cfg, **own)

    def resolved_config(self, ctx: click.Context) -> ResolvedConfig:
        """The configuration the parsed command line of ``ctx`` resolves to: what the callback
        receives as ``cfg``."""
        plan: _Plan = ctx.meta[_PLAN]
        explicit = dict(plan.file_values)
        for option in plan.options:
            value = ctx.params.get(option.name)
            if value is not None:
                explicit[option.name] = value
        configs = resolve(plan.components, plan.arch, explicit, reserved=self.reserved_names())
        return ResolvedConfig(
            {k: v for k, v in plan.selections.items() if v is not None},
            configs,
            {c.role: c.origin for c in plan.components},
        )

    def resolve_args(self, args: Sequence[str]) -> ResolvedConfig:
        """The configuration the command line ``args`` (without the command's name) resolves
        to, without running the command; errors are raised as they are, not printed."""
        with self.make_context(self.name, list(args)) as ctx:
            return self.resolved_config(ctx)

    # -- help ----------------------------------------------------------------------------------
    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        plan: _Plan | None = ctx.meta.get(_PLAN)
        general = [p for p in self.get_params(ctx) if p not in self._derived(plan)]
        rows = [r for p in general if (r := p.get_help_record(ctx))]
        with formatter.section("Options"):
            formatter.write_dl(rows)
        if plan is None:
            return
        params = {p.name: p for p in self.params}
        for component in plan.components:
            mine = [o for o in plan.options if o.owners[0] is component]
            rows = []
            for option in mine:
                record = params[option.name].get_help_record(ctx)
                if record is None:
                    continue
                others = [str(o.role) for o in option.owners[1:]]
                if others:
                    record = (record[0], record[1] + f"  (also used by the {', '.join(others)})")
                rows.append(record)
            if rows:
                title = f"{component.role.replace('_', ' ').capitalize()} options ({component.name}"
                title += f", from {component.origin})" if component.origin else ")"
                with formatter.section(title):
                    formatter.write_dl(rows)

    def _derived(self, plan: _Plan | None) -> set[click.Parameter]:
        if plan is None:
            return set()
        names = {o.name for o in plan.options}
        return {p for p in self.params if p.name in names}


def _metavar(tp: Any) -> str:
    return describe(tp) if choices_of(tp) else describe(tp).upper()


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "(empty)"
    return str(value)
