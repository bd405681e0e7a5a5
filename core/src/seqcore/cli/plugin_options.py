"""The options of every command that loads plug-ins: ``--user-dir`` and ``--strict-plugins``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable)

_OPTIONS: list[tuple[list[str], dict[str, Any]]] = [
    (
        ["--user-dir"],
        dict(
            multiple=True,
            metavar="PATH",
            help="A folder with __init__.py (or one .py file) of your own components, as "
            "fairseq's --user-dir; repeatable. Also read from SEQCORE_USER_DIR.",
        ),
    ),
    (
        ["--strict-plugins"],
        dict(
            is_flag=True,
            default=None,
            help="Fail when an installed plug-in cannot be imported, instead of warning "
            "(also SEQCORE_STRICT_PLUGINS=1).",
        ),
    ),
]


def plugin_params() -> list[click.Parameter]:
    """``--user-dir`` and ``--strict-plugins`` as parameter objects."""
    return [click.Option(decls, **kwargs) for decls, kwargs in _OPTIONS]


def plugin_options(fn: F) -> F:
    """Decorator adding ``--user-dir`` and ``--strict-plugins`` to a click command."""
    for decls, kwargs in reversed(_OPTIONS):
        fn = click.option(*decls, **kwargs)(fn)
    return fn
