"""``get_logits``: the scores a criterion may take the loss from, only where the model's
normalisation is the plain log-softmax of them."""

import torch
from torch import nn

from seqcore.models.base import BaseModel, Decoder, Encoder, EncoderDecoderModel, LanguageModel

SCORES = torch.randn(2, 3, 5)


class FixedDecoder(Decoder):
    def __init__(self):
        super().__init__(dictionary=None)
        self.scores = nn.Parameter(SCORES.clone())

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        return self.scores, None


class HotDecoder(FixedDecoder):
    """Normalises with a temperature: its scores are not its log-probabilities' input."""

    def get_normalized_probs(self, net_output, log_probs):
        return super().get_normalized_probs((net_output[0] / 2.0, None), log_probs)


class NullEncoder(Encoder):
    def forward(self, src_tokens, src_lengths):
        return None


class Plain(BaseModel):
    def forward(self, src_tokens, src_lengths=None):
        return SCORES, None


class Tempered(Plain):
    def get_normalized_probs(self, net_output, log_probs):
        return super().get_normalized_probs((net_output[0] / 2.0, None), log_probs)


class TemperedSeq2Seq(EncoderDecoderModel):
    def get_normalized_probs(self, net_output, log_probs):
        return super().get_normalized_probs((net_output[0] / 2.0, None), log_probs)


def test_a_model_that_normalises_plainly_gives_its_scores():
    out = (SCORES, None)
    assert Plain().get_logits(out) is SCORES
    assert EncoderDecoderModel(NullEncoder(None), FixedDecoder()).get_logits(out) is SCORES
    assert LanguageModel(FixedDecoder()).get_logits(out) is SCORES


def test_a_model_or_decoder_with_its_own_normalisation_gives_none():
    out = (SCORES, None)
    assert Tempered().get_logits(out) is None
    assert TemperedSeq2Seq(NullEncoder(None), FixedDecoder()).get_logits(out) is None
    assert EncoderDecoderModel(NullEncoder(None), HotDecoder()).get_logits(out) is None
    assert LanguageModel(HotDecoder()).get_logits(out) is None
