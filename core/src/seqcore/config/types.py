"""Conversion of flag strings and config-file values to the types of dataclass fields.

One converter serves the command line (strings) and TOML config files (native values), so a value
means the same wherever it is given. Supported field types: ``bool``, ``int``, ``float``, ``str``,
``X | None``, ``Literal[...]`` and ``Enum`` (choices), ``tuple[X, ...]``, ``tuple[X, Y]`` and
``list[X]``; sequences are read from ``"(0.9, 0.98)"``, ``"[0.1, 0.2]"``, ``"0.1,0.2"`` or a single
value, as fairseq reads ``--adam-betas`` and ``--lr``. A :class:`ParsedBy` type reads strings with
a function, as argparse's ``type=`` does (the options of fairseq's legacy ``add_args``).
"""

from __future__ import annotations

import ast
import enum
import types
import typing
from typing import Any, Literal, Union

_NONE_WORDS = {"none", "null"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ConversionError(ValueError):
    """The value does not fit the type; the message says what was expected."""


class ParsedBy:
    """A field type whose flag strings are read by a function, argparse's ``type=fn``
    (``utils.eval_str_list``, a lambda); a value that is not a string (from a TOML file) is
    kept as it is, as argparse keeps a non-string default."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        name = getattr(fn, "__name__", "")
        self.__name__ = name if name.isidentifier() else "value"

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.fn(value)
        except Exception as e:  # argparse, too, takes any error of a type= function as "invalid"
            detail = f" ({e})" if str(e) else ""
            raise ConversionError(f"invalid {self.__name__} value: {value!r}{detail}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParsedBy) and other.fn is self.fn

    def __hash__(self) -> int:
        return hash(self.fn)

    def __repr__(self) -> str:
        return f"ParsedBy({self.__name__})"


def describe(tp: Any) -> str:
    """A short human name of a field type, for help texts and errors."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return describe(inner[0]) if len(inner) == 1 else " | ".join(map(describe, inner))
    if origin is Literal:
        return "{" + ",".join(map(str, args)) + "}"
    if origin in (tuple, list):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return "(" + ", ".join(describe(a) for a in args) + ")"
        return f"{describe(args[0]) if args else 'value'} list"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "{" + ",".join(m.name for m in tp) + "}"
    return getattr(tp, "__name__", str(tp))


def choices_of(tp: Any) -> list[str] | None:
    """The allowed values of a choice type (``Literal`` or ``Enum``, optionally ``| None``)."""
    tp = strip_optional(tp)
    if typing.get_origin(tp) is Literal:
        return [str(a) for a in typing.get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [m.name for m in tp]
    return None


def is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


def strip_optional(tp: Any) -> Any:
    if is_optional(tp):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return inner[0] if len(inner) == 1 else Union[tuple(inner)]  # noqa: UP007
    return tp


def is_bool(tp: Any) -> bool:
    return strip_optional(tp) is bool


def convert(tp: Any, value: Any) -> Any:
    """``value`` (a flag string or a config-file value) as an instance of field type ``tp``."""
    if is_optional(tp):
        if value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS):
            return None
        return convert(strip_optional(tp), value)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        for arg in args:
            try:
                return convert(arg, value)
            except ConversionError:
                continue
        raise ConversionError(f"expected {describe(tp)}, got {value!r}")
    if origin is Literal:
        for choice in args:
            if value == choice or (isinstance(value, str) and value == str(choice)):
                return choice
        raise ConversionError(f"{value!r} is not one of {', '.join(map(str, args))}")
    if origin in (tuple, list):
        return _convert_sequence(tp, origin, args, value)
    if isinstance(tp, ParsedBy):
        return tp(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if value in (member, member.name, member.value):
                return member
        raise ConversionError(f"{value!r} is not one of {', '.join(m.name for m in tp)}")
    if tp is bool:
        return _convert_bool(value)
    if tp is int:
        return _convert_int(value)
    if tp is float:
        return _convert_float(value)
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConversionError(f"expected a string, got {value!r}")
    if tp is Any:
        return value
    raise ConversionError(f"fields of type {describe(tp)} are not supported")


def _convert_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConversionError(f"expected true or false, got {value!r}")


def _convert_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ConversionError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ConversionError(f"expected an integer, got {value!r}")


def _convert_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ConversionError(f"expected a number, got {value!r}")


def _parse_sequence_string(text: str) -> list[Any]:
    text = text.strip()
    if text[:1] in "([":
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise ConversionError(f"cannot parse {text!r} as a list") from None
        return list(parsed) if isinstance(parsed, (list, tuple)) else [parsed]
    return [part.strip() for part in text.split(",") if part.strip()]


def _convert_sequence(tp: Any, origin: type, args: tuple, value: Any) -> Any:
    if isinstance(value, str):
        items = _parse_sequence_string(value)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(items) != len(args):
            raise ConversionError(f"expected {len(args)} values {describe(tp)}, got {value!r}")
        return tuple(convert(a, v) for a, v in zip(args, items))
    item_type = args[0] if args else Any
    converted = [convert(item_type, v) for v in items]
    return tuple(converted) if origin is tuple else converted
