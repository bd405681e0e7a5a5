"""The model contract: encoders, decoders, and the models built from them.

The shapes follow fairseq so that its models port by renaming imports:

- ``Encoder.forward(src_tokens, src_lengths)`` returns an encoder output that its decoder
  understands, and ``reorder_encoder_out`` reorders it along the batch for beam search.
- ``Decoder.forward(prev_output_tokens, encoder_out=None, incremental_state=None)`` returns
  ``(logits, extra)``. With an ``incremental_state`` dict (owned by the caller) the decoder always
  receives the whole prefix but, once its cache is filled, computes only the newest position.
- A model is built by the classmethod ``build_model(cfg, task)``.
- ``get_normalized_probs(net_output, log_probs)`` normalises the scores; ``get_logits(net_output)``
  gives the scores themselves where that normalisation is the plain (log-)softmax, so that a
  criterion can compute its loss and gradient from them in one step.
"""

from __future__ import annotations

import abc
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.models.incremental import IncrementalState, IncrementalStateMixin, reorder_nested

NetOutput = tuple[torch.Tensor, Any]


def normalized_probs(logits: torch.Tensor, log_probs: bool) -> torch.Tensor:
    """(Log-)softmax over the vocabulary, computed in float32 whatever the logits' dtype."""
    logits = logits.float()
    return F.log_softmax(logits, dim=-1) if log_probs else F.softmax(logits, dim=-1)


def _normalises_with(obj: Any, base: type) -> bool:
    """Whether the class of ``obj`` keeps ``base``'s ``get_normalized_probs``."""
    return type(obj).get_normalized_probs is base.get_normalized_probs


class BaseModel(nn.Module):
    """Base of every model. ``forward`` is the subclass's own (its signature depends on the
    kind of model); a registered model also implements ``build_model``."""

    @classmethod
    def build_model(cls, cfg: Any, task: Any) -> BaseModel:
        """Build a model from its config and the task (which provides the dictionaries)."""
        raise NotImplementedError(f"{cls.__name__} must implement build_model(cfg, task)")

    def get_normalized_probs(self, net_output: NetOutput, log_probs: bool) -> torch.Tensor:
        return normalized_probs(net_output[0], log_probs)

    def get_logits(self, net_output: NetOutput) -> torch.Tensor | None:
        """The scores whose log-softmax over the last dimension ``get_normalized_probs`` returns,
        or ``None`` where the model normalises otherwise.

        Criterions take the loss and its gradient straight from these: the backward pass then
        keeps the scores instead of log-probabilities and builds one vocabulary-sized tensor
        instead of two (seqcore/criterions/logits_loss.py). The default
        says ``None`` as soon as the class overrides ``get_normalized_probs``, so a model with
        its own normalisation (an adaptive softmax, a temperature) keeps it; such a model whose
        normalisation is still the plain log-softmax of some scores may override this too."""
        return net_output[0] if _normalises_with(self, BaseModel) else None

    def get_targets(self, sample: dict[str, Any], net_output: NetOutput) -> torch.Tensor:
        return sample["target"]

    def max_positions(self) -> Any:
        """The longest input the model accepts (``None``: no limit)."""
        return None

    def may_skip_parameters(self) -> bool:
        """Whether a training forward may leave some parameters without a gradient (LayerDrop
        skipping a layer). Distributed training then has DDP look for them at every update,
        which it does not by default because the search costs time."""
        return False


class Encoder(nn.Module, abc.ABC):
    """Base of encoders: ``forward(src_tokens, src_lengths)`` -> encoder output."""

    def __init__(self, dictionary: Any) -> None:
        super().__init__()
        self.dictionary = dictionary

    @abc.abstractmethod
    def forward(self, src_tokens: torch.Tensor, src_lengths: torch.Tensor) -> Any:
        """Encode a batch; the result is whatever this encoder's decoder expects."""

    def reorder_encoder_out(self, encoder_out: Any, new_order: torch.Tensor) -> Any:
        """The encoder output with its batch reordered (and possibly repeated) by ``new_order``;
        the default reorders every tensor in it along dimension 0."""
        return reorder_nested(encoder_out, new_order)

    def max_positions(self) -> int | None:
        return None


class Decoder(IncrementalStateMixin, nn.Module, abc.ABC):
    """Base of decoders, with fairseq's incremental-decoding protocol."""

    def __init__(self, dictionary: Any) -> None:
        super().__init__()
        self.dictionary = dictionary

    @abc.abstractmethod
    def forward(
        self,
        prev_output_tokens: torch.Tensor,
        encoder_out: Any = None,
        incremental_state: IncrementalState | None = None,
    ) -> NetOutput:
        """``(logits, extra)`` for every position, or only the newest one once
        ``incremental_state`` holds this decoder's cache."""

    def reorder_incremental_state(
        self, incremental_state: IncrementalState, new_order: torch.Tensor
    ) -> None:
        """Reorder the cached state of this decoder (all of its sub-modules' entries in
        ``incremental_state``) along the batch dimension, in place, for beam search."""
        prefixes = tuple(
            prefix
            for m in self.modules()
            if isinstance(m, IncrementalStateMixin)
            and (prefix := m.incremental_state_prefix()) is not None
        )
        for key in list(incremental_state):
            if key.startswith(prefixes):
                incremental_state[key] = reorder_nested(incremental_state[key], new_order)

    def get_normalized_probs(self, net_output: NetOutput, log_probs: bool) -> torch.Tensor:
        return normalized_probs(net_output[0], log_probs)

    def get_logits(self, net_output: NetOutput) -> torch.Tensor | None:
        """As :meth:`BaseModel.get_logits`, for this decoder's normalisation."""
        return net_output[0] if _normalises_with(self, Decoder) else None

    def max_positions(self) -> int | None:
        return None


class EncoderDecoderModel(BaseModel):
    """An encoder and a decoder: ``forward(src_tokens, src_lengths, prev_output_tokens)``."""

    def __init__(self, encoder: Encoder, decoder: Decoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(
        self,
        src_tokens: torch.Tensor,
        src_lengths: torch.Tensor,
        prev_output_tokens: torch.Tensor,
        **kwargs: Any,
    ) -> NetOutput:
        encoder_out = self.encoder(src_tokens, src_lengths)
        return self.decoder(prev_output_tokens, encoder_out=encoder_out)

    def get_normalized_probs(self, net_output: NetOutput, log_probs: bool) -> torch.Tensor:
        return self.decoder.get_normalized_probs(net_output, log_probs)

    def get_logits(self, net_output: NetOutput) -> torch.Tensor | None:
        if not _normalises_with(self, EncoderDecoderModel):
            return None
        return self.decoder.get_logits(net_output)

    def max_positions(self) -> tuple[int | None, int | None]:
        return (self.encoder.max_positions(), self.decoder.max_positions())


class LanguageModel(BaseModel):
    """A decoder alone: ``forward(src_tokens, src_lengths=None)`` predicts the next tokens."""

    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(
        self, src_tokens: torch.Tensor, src_lengths: torch.Tensor | None = None, **kwargs: Any
    ) -> NetOutput:
        return self.decoder(src_tokens)

    def get_normalized_probs(self, net_output: NetOutput, log_probs: bool) -> torch.Tensor:
        return self.decoder.get_normalized_probs(net_output, log_probs)

    def get_logits(self, net_output: NetOutput) -> torch.Tensor | None:
        if not _normalises_with(self, LanguageModel):
            return None
        return self.decoder.get_logits(net_output)

    def max_positions(self) -> int | None:
        return self.decoder.max_positions()
