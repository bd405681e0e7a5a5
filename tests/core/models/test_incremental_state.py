"""What a decoder relies on for incremental decoding, from ``seqcore.models`` alone."""

from __future__ import annotations

import torch
from torch import nn

from seqcore.models import Decoder, IncrementalState, IncrementalStateMixin


class Cache(IncrementalStateMixin, nn.Module):
    def remember(self, state: IncrementalState, value: torch.Tensor) -> None:
        self.set_incremental_state(state, "seen", value)


class TwoCaches(Decoder):
    def __init__(self) -> None:
        super().__init__(dictionary=None)
        self.first, self.second = Cache(), Cache()

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        self.first.remember(incremental_state, prev_output_tokens)
        self.second.remember(incremental_state, {"twice": prev_output_tokens * 2})
        return prev_output_tokens.float(), None


def test_each_module_has_its_own_keys_and_the_decoder_reorders_them_all():
    decoder, other = TwoCaches(), Cache()
    assert decoder.first.incremental_state_prefix() is None  # nothing stored yet
    state: IncrementalState = {}
    tokens = torch.tensor([[1, 2], [3, 4], [5, 6]])
    decoder(tokens, incremental_state=state)
    other.remember(state, torch.tensor([7, 8, 9]))  # another decoder's entry in the same dict
    assert len(state) == 3
    prefixes = {decoder.first.incremental_state_prefix(), decoder.second.incremental_state_prefix()}
    assert len(prefixes) == 2 and all(p.endswith(".") for p in prefixes)

    order = torch.tensor([2, 0, 0])
    decoder.reorder_incremental_state(state, order)
    assert torch.equal(decoder.first.get_incremental_state(state, "seen"), tokens[order])
    twice = decoder.second.get_incremental_state(state, "seen")["twice"]
    assert torch.equal(twice, 2 * tokens[order])
    assert torch.equal(other.get_incremental_state(state, "seen"), torch.tensor([7, 8, 9]))


def test_without_a_state_nothing_is_stored_or_read():
    cache = Cache()
    cache.remember(None, torch.ones(1))
    assert cache.get_incremental_state(None, "seen") is None
