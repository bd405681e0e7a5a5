"""A name -> component table with origins, clash detection and did-you-mean.

Each plug-in kind (models, architectures, criterions, tasks, optimizers, learning-rate schedulers)
has one :class:`Registry`; the ``register_*`` decorators of :mod:`seqcore.models` and friends fill
them. This module imports neither torch nor any plug-in.

Two different components under one name (a clash) are both kept: the clash stays local, so only
selecting that name is an error (naming both origins), and work that does not need it goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from seqcore.errors import RegistrationError, UnknownComponentError
from seqcore.origin import Origin, origin_of


@dataclasses.dataclass
class Entry:
    """One registered component."""

    name: str
    obj: Any
    config_class: type | None
    origin: Origin
    implicit: bool = False  # a default another registration may replace (a model's own arch)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def _definition(obj: Any) -> tuple[str, str] | None:
    """(source file, qualified name): equal for one definition imported under two module names."""
    try:
        return (inspect.getfile(obj), obj.__qualname__)
    except (TypeError, AttributeError, OSError):
        return None


def same_definition(a: Any, b: Any) -> bool:
    if a is b:
        return True
    da, db = _definition(a), _definition(b)
    return da is not None and da == db


# Called with the kind and name of a component that is not registered; returns extra text for the
# error (the plug-in loader uses it to name plug-ins that failed to import).
_unknown_name_notes: list[Callable[[str, str], str]] = []


def add_unknown_name_note(fn: Callable[[str, str], str]) -> None:
    _unknown_name_notes.append(fn)


class Registry:
    """Components of one kind by name. ``kind`` is a noun for messages ("model architecture"),
    ``flag`` the option that selects one ("--arch")."""

    def __init__(self, kind: str, flag: str | None = None) -> None:
        self.kind = kind
        self.flag = flag
        self._entries: dict[str, Entry] = {}
        self._clashes: dict[str, list[Entry]] = {}  # name -> the other entries under it

    def register(
        self,
        name: str,
        obj: Any,
        config_class: type | None = None,
        *,
        implicit: bool = False,
        **extra: Any,
    ) -> Entry:
        if not isinstance(name, str) or not name:
            raise RegistrationError(f"a {self.kind} needs a non-empty string name, got {name!r}")
        if config_class is not None and not dataclasses.is_dataclass(config_class):
            raise RegistrationError(
                f"{self.kind} {name!r}: dataclass= must be a @dataclass, got {config_class!r}"
            )
        module = getattr(obj, "__module__", None) or "?"
        entry = Entry(name, obj, config_class, origin_of(module), implicit, extra)
        old = self._entries.get(name)
        if old is not None:
            if same_definition(old.obj, obj) and old.extra == extra:
                return old  # one file imported twice: harmless
            if implicit:
                return old  # an explicit registration already took the name
            if not old.implicit:
                others = self._clashes.get(name, [])
                if not any(same_definition(o.obj, obj) and o.extra == extra for o in others):
                    self._clashes[name] = [*others, entry]
                return old
        self._entries[name] = entry
        return entry

    def class_decorator(
        self, name: str, config_class: type | None, base: type
    ) -> Callable[[type], type]:
        """A class decorator registering a subclass of ``base`` as ``name``."""

        def decorate(cls: type) -> type:
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise RegistrationError(
                    f"{self.kind} {name!r}: {cls!r} is not a subclass of {base.__name__}"
                )
            self.register(name, cls, config_class)
            return cls

        return decorate

    def get(self, name: str) -> Entry:
        """The entry for ``name``; an unknown name is an error listing the names there are, and a
        name two plug-ins registered is an error naming both."""
        try:
            entry = self._entries[name]
        except KeyError:
            raise UnknownComponentError(self.unknown_message(name)) from None
        if name in self._clashes:
            raise RegistrationError(self.clash_message(name))
        return entry

    def get_entry(self, name: str) -> Entry | None:
        """The (first) entry under ``name``, clash or not; None when there is none."""
        return self._entries.get(name)

    def clash_message(self, name: str) -> str:
        origins = [str(e.origin) for e in [self._entries[name], *self._clashes[name]]]
        where = f" ({self.flag})" if self.flag else ""
        return (
            f"{self.kind} {name!r}{where} is registered by {' and by '.join(origins)}; disable "
            "one of them (seqcore --disable-plugin NAME, or SEQCORE_DISABLE_PLUGINS=NAME), "
            "uninstall it or rename the component"
        )

    def clashes(self, name: str) -> list[Entry]:
        """Every entry under ``name`` when more than one component has it, else []."""
        if name not in self._clashes:
            return []
        return [self._entries[name], *self._clashes[name]]

    def unknown_message(self, name: str) -> str:
        names = sorted(self._entries)
        where = f" ({self.flag})" if self.flag else ""
        msg = f"unknown {self.kind} {name!r}{where}"
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        separator = " " if close else "; "
        if names:
            msg += f"{separator}available: {', '.join(names)}"
        else:
            msg += f"{separator}no {self.kind} is installed"
        for note in _unknown_name_notes:
            msg += note(self.kind, name)
        return msg

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        """One entry per name (the first registered where names clash), sorted by name."""
        return [self._entries[n] for n in sorted(self._entries)]

    def all_entries(self) -> list[Entry]:
        """Every entry, the clashing ones included, sorted by name."""
        return [
            e for n in sorted(self._entries) for e in [self._entries[n], *self._clashes.get(n, [])]
        ]

    def _state(self) -> tuple[dict[str, Entry], dict[str, list[Entry]]]:
        return dict(self._entries), {k: list(v) for k, v in self._clashes.items()}

    def _restore(self, state: tuple[dict[str, Entry], dict[str, list[Entry]]]) -> None:
        self._entries, self._clashes = dict(state[0]), {k: list(v) for k, v in state[1].items()}


# The registries of the five plug-in kinds (architectures belong to models).
MODELS = Registry("model")
ARCHITECTURES = Registry("model architecture", "--arch")
CRITERIONS = Registry("criterion", "--criterion")
TASKS = Registry("task", "--task")
OPTIMIZERS = Registry("optimizer", "--optimizer")
LR_SCHEDULERS = Registry("lr scheduler", "--lr-scheduler")

# Keyed as `seqcore plugins --json` reports components.
BY_KIND: dict[str, Registry] = {
    "model": MODELS,
    "criterion": CRITERIONS,
    "task": TASKS,
    "optimizer": OPTIMIZERS,
    "lr_scheduler": LR_SCHEDULERS,
}

ALL: tuple[Registry, ...] = (MODELS, ARCHITECTURES, CRITERIONS, TASKS, OPTIMIZERS, LR_SCHEDULERS)


@contextlib.contextmanager
def undone_on_error(registries: Iterable[Registry] = ALL) -> Iterator[None]:
    """Undo every registration made in the ``with`` block if it raises: a plug-in that fails to
    load leaves none of its components behind."""
    registries = list(registries)
    saved = [r._state() for r in registries]
    try:
        yield
    except BaseException:
        for registry, state in zip(registries, saved):
            registry._restore(state)
        raise
