"""Reading fairseq's pickled checkpoints without running any code from them.

fairseq saves ``torch.save`` files whose pickle holds an ``argparse.Namespace`` or omegaconf
config containers beside the tensors, and loads them with ``weights_only=False``: whatever
callable the pickle names is imported and called. Here torch's own reader does the work (the zip
container or the legacy format, the storages, ``map_location``) through an unpickler that
resolves only an allow-list of globals:

- plain containers (``collections.OrderedDict``, ``set``, ``frozenset``);
- torch's own tensor rebuild functions, storage types, dtypes and ``torch.Size``;
- ``argparse.Namespace``, rebuilt as a plain ``dict``;
- omegaconf's config containers and nodes, rebuilt as plain ``dict``/``list``/values by
  stand-ins defined here (omegaconf need not be installed, and is never imported); the types
  that omegaconf keeps as metadata beside the values (``typing.Any``, fairseq's dataclasses) are
  names only, never imported, and dropped with the metadata.

Any other global is refused with a :class:`UnsafePickleError` naming it, before anything is
imported or called; so is a name that only stands in omegaconf's metadata but is then called.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import pickle
import types
from typing import Any

import torch

from seqcore.errors import CheckpointError


class UnsafePickleError(CheckpointError):
    """A checkpoint whose pickle names a global outside the allow-list."""


# -- stand-ins for the allowed classes: each rebuilds as plain data --------------------------------


class _Namespace:
    """``argparse.Namespace``: its attributes, as a dict (rebuilt by :func:`_plain`)."""

    def __init__(self, **kwargs: Any) -> None:
        self.values = dict(kwargs)

    def __setstate__(self, state: Any) -> None:
        self.values = dict(state) if isinstance(state, dict) else {}


class _OmegaObject:
    """An omegaconf container or node: the state its ``__getstate__`` saved, kept as is.

    omegaconf pickles a container as ``NEWOBJ(cls)`` then ``BUILD(state)``, where ``state`` is
    its ``__dict__``: ``_content`` (the values: nodes, containers, ``None`` or a string such as
    ``"???"``), ``_metadata`` and ``_parent``. A value node keeps its value in ``_val``."""

    kind = "node"

    def __new__(cls, *args: Any, **kwargs: Any) -> _OmegaObject:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        self.state = dict(state) if isinstance(state, dict) else {}


class _OmegaDict(_OmegaObject):
    kind = "dict"


class _OmegaList(_OmegaObject):
    kind = "list"


class _OmegaMetadata(_OmegaObject):
    kind = "metadata"


class _MetadataName:
    """A global that omegaconf keeps only as metadata (``ref_type``, ``object_type``): a name,
    never imported; calling it is refused."""

    def __init__(self, qualified: str) -> None:
        self.qualified = qualified

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsafePickleError(_refusal(self.qualified))


class _StringEnum:
    """An enum of fairseq's options (``fairseq.dataclass.constants``), kept in omegaconf's value
    nodes: rebuilt as the member's string value, the class never imported."""

    def __init__(self, qualified: str) -> None:
        self.qualified = qualified

    def __call__(self, value: Any = None, *rest: Any) -> Any:
        if rest or not isinstance(value, str):
            raise UnsafePickleError(_refusal(self.qualified))
        return value


_OMEGACONF_DICTS = {"omegaconf.dictconfig.DictConfig"}
_OMEGACONF_LISTS = {"omegaconf.listconfig.ListConfig"}
_OMEGACONF_METADATA = {"omegaconf.base.Metadata", "omegaconf.base.ContainerMetadata"}
_OMEGACONF_NODES = {
    f"omegaconf.nodes.{name}"
    for name in (
        "AnyNode",
        "StringNode",
        "IntegerNode",
        "FloatNode",
        "BooleanNode",
        "EnumNode",
        "BytesNode",
        "PathNode",
        "ValueNode",
        "InterpolationResultNode",
    )
}
# names that only appear as omegaconf's metadata (the declared type of a value)
_METADATA_NAMES = {"typing.Any", "builtins.dict", "builtins.list", "builtins.object"}
_METADATA_NAMES |= {f"builtins.{t}" for t in ("str", "int", "float", "bool", "bytes")}

_TORCH_REBUILDS = {
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
}


def _encode(text: str, encoding: str = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(_refusal("_codecs.encode"))
    return text.encode("latin1")


def _refusal(qualified: str) -> str:
    return (
        f"refused to load: the pickle calls {qualified}, which is not plain data "
        "(only containers, tensors, argparse.Namespace and omegaconf configs are read)"
    )


def _allowed(module: str, name: str) -> Any:
    """The object a pickle's global ``module.name`` stands for, or ``None`` when refused."""
    qualified = f"{module}.{name}"
    if qualified == "collections.OrderedDict":
        return collections.OrderedDict
    if qualified in ("builtins.set", "builtins.frozenset"):
        return set if name == "set" else frozenset
    if qualified == "_codecs.encode":  # how protocol 2 writes bytes: encode(text, "latin1")
        return _encode
    if qualified == "argparse.Namespace":
        return _Namespace
    if qualified in _TORCH_REBUILDS:
        return getattr(torch._utils, name)
    if qualified == "torch.Size":
        return torch.Size
    if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
        return getattr(torch, name)
    if qualified in _OMEGACONF_DICTS:
        return _OmegaDict
    if qualified in _OMEGACONF_LISTS:
        return _OmegaList
    if qualified in _OMEGACONF_METADATA:
        return _OmegaMetadata
    if qualified in _OMEGACONF_NODES:
        return _OmegaObject
    if module == "fairseq.dataclass.constants":
        return _StringEnum(qualified)
    if qualified in _METADATA_NAMES or module == "fairseq" or module.startswith("fairseq."):
        return _MetadataName(qualified)  # e.g. the dataclass an omegaconf config was made from
    return None


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves only the allow-list of this module."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":  # Python 2's name, which protocol 2 pickles write
            module = "builtins"
        found = _allowed(module, name)
        if found is None:
            raise UnsafePickleError(_refusal(f"{module}.{name}"))
        return found


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


# What torch.load takes as its ``pickle_module``: torch's reader subclasses ``Unpickler`` (its
# ``find_class`` maps storage names to torch's storage types, then defers to ours) and calls
# ``load`` for the legacy format's headers.
restricted_pickle = types.SimpleNamespace(
    __name__="seqcore.interop.safe_pickle",
    Unpickler=RestrictedUnpickler,
    load=_restricted_load,
)


def _plain(value: Any) -> Any:
    """``value`` with every stand-in replaced by plain data (dicts, lists, values)."""
    if isinstance(value, _Namespace):
        return {k: _plain(v) for k, v in getattr(value, "values", {}).items()}
    if isinstance(value, _OmegaObject):
        return _plain_omega(value)
    if isinstance(value, (_MetadataName, _StringEnum)):
        raise UnsafePickleError(
            f"refused to load: the pickle holds {value.qualified} outside omegaconf's metadata"
        )
    if isinstance(value, argparse.Namespace):  # never made by the unpickler; for completeness
        return _plain(vars(value))
    if isinstance(value, dict):
        plain = {k: _plain(v) for k, v in value.items()}
        return (
            collections.OrderedDict(plain) if isinstance(value, collections.OrderedDict) else plain
        )
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _plain_omega(obj: _OmegaObject) -> Any:
    state = getattr(obj, "state", {})
    content = state.get("_content", state.get("_val"))
    if obj.kind == "metadata":
        return None
    if isinstance(content, str) and content == "???":
        return None  # a missing mandatory value
    if obj.kind == "dict" and isinstance(content, dict):
        return {k: _plain(v) for k, v in content.items()}
    if obj.kind == "list" and isinstance(content, (list, tuple)):
        return [_plain(v) for v in content]
    return _plain(content)


def load_pickled_checkpoint(path: str | os.PathLike) -> Any:
    """The contents of a ``torch.save`` file written by another program (fairseq), as plain
    data and tensors on the CPU; nothing in it is imported or called beyond the allow-list."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError(f"checkpoint {path}: {e.strerror or e}") from None
    try:
        state = torch.load(
            io.BytesIO(data),
            map_location="cpu",
            weights_only=False,  # the restricted pickle_module below is what keeps it safe
            pickle_module=restricted_pickle,
        )
    except UnsafePickleError as e:
        raise UnsafePickleError(f"checkpoint {path}: {e}") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, KeyError, TypeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise CheckpointError(f"checkpoint {path} cannot be read ({first})") from None
    return _plain(state)
