"""Helpers under the names fairseq's ``fairseq.utils`` gives them, for code ported from fairseq.

Only what fairseq models and criterions commonly call and seqcore has no other home for; each
follows the behaviour fairseq documents. docs/porting-from-fairseq.md maps the rest.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F


def strip_pad(tensor: torch.Tensor, pad: int) -> torch.Tensor:
    """The elements of ``tensor`` that are not ``pad`` (a 1-D tensor: a sentence unpadded)."""
    return tensor[tensor.ne(pad)]


def convert_padding_direction(
    src_tokens: torch.Tensor,
    padding_idx: int,
    right_to_left: bool = False,
    left_to_right: bool = False,
) -> torch.Tensor:
    """``src_tokens`` (batch x length) with the padding of every row moved to the other side:
    ``left_to_right`` turns left-padded rows into right-padded ones, ``right_to_left`` the
    reverse. A batch already padded on the wanted side (or not padded) is returned as it is."""
    if right_to_left == left_to_right:
        raise ValueError("convert_padding_direction: give one of right_to_left, left_to_right")
    pad_mask = src_tokens.eq(padding_idx)
    if not pad_mask.any():
        return src_tokens
    if left_to_right and not pad_mask[:, 0].any():
        return src_tokens  # already padded on the right
    if right_to_left and not pad_mask[:, -1].any():
        return src_tokens  # already padded on the left
    length = src_tokens.size(1)
    num_pads = pad_mask.long().sum(dim=1, keepdim=True)
    positions = torch.arange(length, device=src_tokens.device).expand_as(src_tokens)
    shift = num_pads if left_to_right else -num_pads
    index = torch.remainder(positions + shift, length)
    return src_tokens.gather(1, index)


def get_incremental_state(module: Any, incremental_state: dict | None, key: str) -> Any:
    """``module``'s cached value ``key`` in ``incremental_state`` (``None`` when there is none);
    ``module`` is a decoder or layer with seqcore's ``IncrementalStateMixin``, as the
    ``seqcore.models.Decoder`` every decoder derives from."""
    return module.get_incremental_state(incremental_state, key)


def set_incremental_state(
    module: Any, incremental_state: dict | None, key: str, value: Any
) -> dict | None:
    """Store ``value`` as ``module``'s ``key`` in ``incremental_state`` (nothing without one);
    returns ``incremental_state``."""
    module.set_incremental_state(incremental_state, key, value)
    return incremental_state


def make_positions(
    tensor: torch.Tensor, padding_idx: int, onnx_trace: bool = False
) -> torch.Tensor:
    """Position numbers of the non-pad symbols of ``tensor``, counting from ``padding_idx + 1``
    along each row; pad symbols get ``padding_idx`` (``onnx_trace`` is accepted and ignored)."""
    mask = tensor.ne(padding_idx).int()
    return (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + padding_idx


def item(tensor: Any) -> Any:
    """A one-element tensor as a Python number; anything else as it is."""
    if torch.is_tensor(tensor) and tensor.numel() == 1:
        return tensor.item()
    return tensor


def fill_with_neg_inf(t: torch.Tensor) -> torch.Tensor:
    """``t`` filled with -inf in place (computed in float32, so that float16 keeps -inf)."""
    return t.float().fill_(float("-inf")).type_as(t)


def softmax(x: torch.Tensor, dim: int, onnx_trace: bool = False) -> torch.Tensor:
    """Softmax over ``dim`` computed in float32 (``onnx_trace`` is accepted and ignored)."""
    return F.softmax(x.float(), dim=dim, dtype=torch.float32)


def log_softmax(x: torch.Tensor, dim: int, onnx_trace: bool = False) -> torch.Tensor:
    """Log-softmax over ``dim`` computed in float32 (``onnx_trace`` is accepted and ignored)."""
    return F.log_softmax(x.float(), dim=dim, dtype=torch.float32)


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "gelu": F.gelu,
    "gelu_accurate": lambda x: F.gelu(x, approximate="tanh"),
    "tanh": torch.tanh,
    "linear": lambda x: x,
    "swish": F.silu,
}


def get_activation_fn(activation: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation function called ``activation``: relu, gelu, gelu_accurate (gelu's tanh
    approximation), tanh, linear (the identity) or swish."""
    try:
        return _ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(
            f"unknown activation {activation!r}; one of {', '.join(_ACTIVATIONS)}"
        ) from None


def eval_str_list(x: Any, type: Callable[[Any], Any] = float) -> list[Any] | None:
    """A flag's text ``"[0.1, 0.2]"``, ``"(1, 2)"`` or ``"0.1"`` as a list of ``type`` values
    (``None`` stays ``None``). Read as a Python literal, never evaluated as code."""
    if x is None:
        return None
    if isinstance(x, str):
        x = ast.literal_eval(x)
    try:
        return [type(v) for v in x]
    except TypeError:
        return [type(x)]


def eval_bool(x: Any, default: bool = False) -> bool:
    """A flag's text ``"True"``/``"False"`` (any Python literal) as a bool; ``None`` gives
    ``default``. Read as a Python literal, never evaluated as code."""
    if x is None:
        return default
    if isinstance(x, str):
        return bool(ast.literal_eval(x))
    return bool(x)
