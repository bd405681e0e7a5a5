"""Per-module keys into the caller-owned ``incremental_state`` dict.

During incremental decoding the caller (beam search, say) owns one plain dict per decoding run;
each layer that caches something stores it there under a key unique to that layer object, so that
several decoders (an ensemble) can share one dict without clashes.
"""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count()

# The caller-owned cache of one incremental decoding run: key -> whatever a layer stores.
IncrementalState = dict[str, Any]


class IncrementalStateMixin:
    """Gives a module ``get_incremental_state`` / ``set_incremental_state`` under its own key.

    The keys of one module all start with :meth:`incremental_state_prefix`, which is how a
    decoder finds the entries of its sub-modules to reorder them for beam search.
    """

    def incremental_state_prefix(self) -> str | None:
        """The start of every key this module stores under (``None`` until it stores one)."""
        uid = self.__dict__.get("_incremental_state_id")
        return None if uid is None else f"{uid}."

    def _state_key(self, key: str) -> str:
        uid = self.__dict__.get("_incremental_state_id")
        if uid is None:
            uid = self.__dict__["_incremental_state_id"] = f"{type(self).__name__}.{next(_ids)}"
        return f"{uid}.{key}"

    def get_incremental_state(self, incremental_state: IncrementalState | None, key: str) -> Any:
        if incremental_state is None:
            return None
        return incremental_state.get(self._state_key(key))

    def set_incremental_state(
        self, incremental_state: IncrementalState | None, key: str, value: Any
    ) -> None:
        if incremental_state is not None:
            incremental_state[self._state_key(key)] = value


def reorder_nested(value: Any, new_order: Any) -> Any:
    """``value`` with every tensor in it indexed along dimension 0 by ``new_order``."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.index_select(0, new_order)
    if isinstance(value, dict):
        return {k: reorder_nested(v, new_order) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(reorder_nested(v, new_order) for v in value)
    return value
