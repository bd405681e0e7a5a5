"""fairseq's legacy components: options declared by ``add_args(parser)`` instead of a dataclass.

Before its dataclass configs, fairseq's models, criterions and tasks declared their flags in a
static ``add_args(parser)`` and were built from an ``argparse.Namespace`` holding the whole run's
options (``args.encoder_embed_dim`` next to ``args.left_pad_source``). Such a component, registered
without a dataclass, keeps working in seqcore unchanged: when it is registered, its ``add_args``
runs once on an argparse parser, and the arguments it added are described as a dataclass (a
subclass of :class:`LegacyConfig`), the one description every seqcore option comes from. Flags,
help, config files, precedence and errors are then those of any other component; only the build
call differs: the component receives :func:`component_args`, a Namespace of the run's values.

As in fairseq, a model's arguments are added to a group whose default is ``argparse.SUPPRESS``:
a model option that has no ``default=`` and is not given stays out of the Namespace (its field
holds ``None``), so that the architecture's ``getattr(args, "x", default)`` supplies it.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Literal, Optional

from seqcore.config.types import ConversionError, ParsedBy, convert
from seqcore.errors import RegistrationError

SUPPRESSED = "suppressed"  # field metadata: None means "not given" (argparse.SUPPRESS)
_PLAIN_TYPES = (str, int, float, bool)


class LegacyConfig:
    """Base of the dataclasses made from an ``add_args``: their components are built with an
    ``argparse.Namespace`` (:func:`component_args`) instead of the config itself."""


def is_legacy(cfg: Any) -> bool:
    return isinstance(cfg, LegacyConfig)


def legacy_config_class(cls: type, role: str) -> type | None:
    """The dataclass describing the arguments ``cls.add_args(parser)`` adds, or ``None`` when
    ``cls`` has no ``add_args``. ``role`` is ``"model"``, ``"criterion"`` or ``"task"``; a
    model's arguments default to ``argparse.SUPPRESS`` as in fairseq."""
    add_args = getattr(cls, "add_args", None)
    if add_args is None:
        return None
    where = f"{cls.__module__}.{cls.__qualname__}.add_args"
    parser = argparse.ArgumentParser(prog=cls.__name__, add_help=False, allow_abbrev=False)
    target: Any = parser
    if role == "model":
        target = parser.add_argument_group(
            "Model-specific configuration", argument_default=argparse.SUPPRESS
        )
    try:
        add_args(target)
    except (argparse.ArgumentError, TypeError, ValueError) as e:
        raise RegistrationError(f"{where}: {e}") from None
    names = {kind: name for name, kind in parser._registries["action"].items() if name}
    fields = [_field(action, where, names) for action in parser._actions]  # each add_argument
    # keyword-only: a required argument may follow ones with defaults, as in argparse
    config = dataclasses.make_dataclass(
        f"{cls.__name__}Args", fields, bases=(LegacyConfig,), kw_only=True
    )
    config.__module__ = cls.__module__
    config.__qualname__ = f"{cls.__qualname__}.add_args"
    return config


_SWITCHES = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)


def _field(
    action: argparse.Action, where: str, names: dict[type, str]
) -> tuple[str, Any, dataclasses.Field]:
    """One ``add_argument`` call as a dataclass field: ``(name, type, field(...))``."""
    flags = "/".join(action.option_strings) or action.dest
    kind = type(action)
    if kind is not argparse._StoreAction and kind not in _SWITCHES:
        raise RegistrationError(
            f"{where}: {flags} uses action={names.get(kind, kind.__name__)!r}, which seqcore "
            "does not translate (store, store_true, store_false and BooleanOptionalAction it "
            "does); declare the option in a dataclass instead"
        )
    dest = action.dest
    dashed = "--" + dest.replace("_", "-")
    longs = [s for s in action.option_strings if s.startswith("--")]
    shorts = [s for s in action.option_strings if len(s) == 2 and s[0] == "-" and s[1] != "-"]
    # "--no-x" storing False into x is seqcore's own off switch of --x
    negative = kind is not argparse._StoreAction and "--no-" + dashed[2:] in longs
    if action.option_strings and dashed not in longs and not negative:
        raise RegistrationError(
            f"{where}: {flags} stores into {dest!r}; seqcore names each option after where "
            f"it is stored, so declare it as {dashed}"
        )
    suppressed = action.default is argparse.SUPPRESS
    tp = _value_type(action, where, flags)
    metadata: dict[str, Any] = {"help": _help_text(action)}
    if not action.option_strings:
        metadata["positional"] = True
    if shorts:
        metadata["short"] = shorts[0]
    if isinstance(action.metavar, str):
        metadata["metavar"] = action.metavar
    if action.nargs == "?" and action.const is not None:
        metadata["flag_value"] = action.const
    if suppressed:
        metadata[SUPPRESSED] = True
    if action.required and not suppressed:
        return dest, tp, dataclasses.field(metadata=metadata)
    default = None if suppressed else action.default
    if isinstance(default, str) and tp is not str:
        try:  # argparse reads a string default as if it were given on the command line
            default = convert(tp, default)
        except ConversionError as e:
            raise RegistrationError(f"{where}: {flags} has default {default!r}: {e}") from None
    if default is None:
        tp = Optional[tp]  # noqa: UP045 (a ParsedBy instance has no "|")
    if isinstance(default, (list, dict, set)):
        value = default
        return (
            dest,
            tp,
            dataclasses.field(default_factory=lambda: type(value)(value), metadata=metadata),
        )
    return dest, tp, dataclasses.field(default=default, metadata=metadata)


def _value_type(action: argparse.Action, where: str, flags: str) -> Any:
    """The field type of an argument: its ``type=``, ``choices=`` and ``nargs=`` together."""
    if isinstance(action, _SWITCHES):
        return bool
    fn = action.type
    if fn is None:
        item: Any = str
    elif fn in _PLAIN_TYPES:
        item = fn
    elif callable(fn):
        item = ParsedBy(fn)
    else:
        raise RegistrationError(f"{where}: {flags} has type={fn!r}, which is not callable")
    if action.choices is not None:
        choices = tuple(action.choices)
        if not choices:
            raise RegistrationError(f"{where}: {flags} has no choices")
        item = Literal[choices]
    nargs = action.nargs
    if nargs in (None, "?"):
        return item
    if nargs in ("*", "+"):
        return list[item]
    if isinstance(nargs, int):
        return tuple[(item,) * nargs] if nargs else tuple[()]
    raise RegistrationError(f"{where}: {flags} has nargs={nargs!r}, which seqcore does not read")


def _help_text(action: argparse.Action) -> str:
    text = action.help or ""
    if text is argparse.SUPPRESS:
        return ""
    if "%" in text:
        try:  # argparse's own expansions: %(default)s, %(choices)s, ...
            values = dict(vars(action), prog="")
            if values.get("choices") is not None:
                values["choices"] = ", ".join(map(str, values["choices"]))
            text = text % values
        except (KeyError, TypeError, ValueError):
            pass
    return text


# -- building: the Namespace a legacy component receives ----------------------------------------
def attach_run(cfg: Any, run: Any) -> None:
    """Record the resolved configuration ``cfg`` belongs to (a ``ResolvedConfig``), whose other
    values :func:`component_args` puts into the Namespace."""
    object.__setattr__(cfg, "_run", run)


def _values_of(cfg: Any) -> dict[str, Any]:
    """A component config's option values. The trainer's options read back from a checkpoint are
    one dataclass holding them all in a dict field ``values``."""
    if not dataclasses.is_dataclass(cfg):
        return {}
    fields = [f for f in dataclasses.fields(cfg) if not f.name.startswith("_")]
    if [f.name for f in fields] == ["values"] and isinstance(cfg.values, dict):
        return dict(cfg.values)
    return {f.name: getattr(cfg, f.name) for f in fields}


def component_args(cfg: Any) -> Any:
    """What a component is built with: ``cfg`` itself, or for a legacy component an
    ``argparse.Namespace`` of the whole run's options as fairseq's ``args`` holds them (the
    selections ``arch``, ``task``, ... and every option of every component), this component's
    values taking precedence where an option feeds several. An unset model option (no default,
    not given, not filled by the architecture) is absent, as with ``argparse.SUPPRESS``."""
    if not is_legacy(cfg):
        return cfg
    values: dict[str, Any] = {}
    run = cfg.__dict__.get("_run")
    if run is not None:
        values.update(run.selections)
        for other in run.configs.values():
            if other is not cfg:
                values.update(_values_of(other))
    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        if field.metadata.get(SUPPRESSED) and value is None:
            continue  # the run's value of that name (another component's), or absent
        values[field.name] = value
    return argparse.Namespace(**values)
