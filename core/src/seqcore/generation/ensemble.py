"""The model side of decoding: one or more models behind a single next-token distribution.

Works with any model that follows seqcore's decoding protocol: an ``encoder`` (absent or ``None``
for a language model) with ``reorder_encoder_out``, and a ``decoder`` taking
``(prev_output_tokens, encoder_out=..., incremental_state=...)`` with
``reorder_incremental_state``. Each model keeps its own cache dict; an ensemble averages the
models' probabilities (the log of the mean probability). A decoder whose ``forward`` takes no
``incremental_state`` (fairseq's plain ``FairseqDecoder``) is given the whole prefix at every
step, as fairseq's generator does.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from seqcore.models.incremental import IncrementalState


class EnsembleModel:
    """Encodes, reorders and steps a list of models in lock-step.

    With ``incremental=False`` the decoders get no cache and recompute the whole prefix at
    every step (slower; a reference for the cached path).
    """

    def __init__(self, models: Sequence[nn.Module], incremental: bool = True) -> None:
        if len(models) == 0:
            raise ValueError("SequenceGenerator needs at least one model")
        self.models = list(models)
        self.incremental = incremental
        self.cached = [caches(m.decoder) for m in self.models]  # which decoders take a cache

    def max_decoder_positions(self) -> int:
        """The longest output every decoder accepts (``sys.maxsize`` when none says)."""
        limits = [m.decoder.max_positions() for m in self.models]
        return min([limit for limit in limits if limit is not None], default=sys.maxsize)

    @staticmethod
    def _encoder(model: nn.Module) -> nn.Module | None:
        return getattr(model, "encoder", None)

    def encode(self, src_tokens: torch.Tensor, src_lengths: torch.Tensor | None) -> list[Any]:
        return [
            enc(src_tokens=src_tokens, src_lengths=src_lengths) if enc is not None else None
            for enc in map(self._encoder, self.models)
        ]

    def new_states(self) -> list[IncrementalState | None]:
        return [{} if self.incremental and cached else None for cached in self.cached]

    def reorder(
        self,
        encoder_outs: list[Any],
        states: list[IncrementalState | None],
        new_order: torch.Tensor,
        encoder_too: bool = True,
    ) -> list[Any]:
        """Select (and repeat) batch rows ``new_order`` of every cache, in place, and of every
        encoder output (unless ``encoder_too`` is false), returned.

        Beam search leaves the encoder outputs as they are (``encoder_too=False``) while no
        sentence leaves the batch: every hypothesis of a sentence has the same encoder output,
        and a new order of as many rows only moves hypotheses among the beams of their own
        sentence. Decoders may rely on that too, for what they cache of the encoder output."""
        reordered = []
        for model, encoder_out, state in zip(self.models, encoder_outs, states):
            if state:
                model.decoder.reorder_incremental_state(state, new_order)
            encoder = self._encoder(model)
            if encoder_too and encoder is not None and encoder_out is not None:
                encoder_out = encoder.reorder_encoder_out(encoder_out, new_order)
            reordered.append(encoder_out)
        return reordered

    def next_log_probs(
        self,
        prev_tokens: torch.Tensor,
        encoder_outs: list[Any],
        states: list[IncrementalState | None],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Log-probabilities (N x V, float32) of the token following each row of ``prev_tokens``."""
        per_model = []
        for model, cached, encoder_out, state in zip(
            self.models, self.cached, encoder_outs, states
        ):
            kwargs: dict[str, Any] = {"incremental_state": state} if cached else {}
            if self._encoder(model) is not None:
                kwargs["encoder_out"] = encoder_out
            logits, extra = model.decoder(prev_tokens, **kwargs)
            logits = logits[:, -1:, :]
            if temperature != 1.0:
                logits = logits / temperature
            lprobs = model.get_normalized_probs((logits, extra), log_probs=True)
            per_model.append(lprobs[:, -1, :].float())
        if len(per_model) == 1:
            return per_model[0]
        return torch.logsumexp(torch.stack(per_model), dim=0) - math.log(len(per_model))


def caches(decoder: nn.Module) -> bool:
    """Whether ``decoder.forward`` takes an ``incremental_state`` (or any keyword argument)."""
    try:
        parameters = inspect.signature(decoder.forward).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "incremental_state" or p.kind is p.VAR_KEYWORD for p in parameters)
