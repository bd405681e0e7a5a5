"""Incremental decoding with the cache gives what one full forward gives, also after the batch
is reordered as beam search does, and computes only the newest position."""

import pytest
import torch

from seqcore.config import make_config
from seqcore_lstm import LSTMConfig, LSTMLanguageModel, LSTMLanguageModelConfig, LSTMModel

TOL = 1e-5


def small_lstm(task, **overrides):
    values = dict(
        encoder_embed_dim=12,
        encoder_hidden_size=10,
        decoder_embed_dim=14,
        decoder_hidden_size=16,
        decoder_out_embed_dim=9,
        encoder_layers=2,
        decoder_layers=2,
    )
    values.update(overrides)
    torch.manual_seed(0)
    return LSTMModel.build_model(make_config(LSTMConfig, "lstm", values), task).eval()


def decode_step_by_step(decoder, prev_output_tokens, encoder_out, state, start, stop):
    """Logits of positions start..stop-1, one call per position; the earlier positions of the
    prefix are overwritten with other tokens, which a decoder reading only the cache ignores."""
    steps = []
    for t in range(start + 1, stop + 1):
        prefix = prev_output_tokens[:, :t].clone()
        if t > 1:
            prefix[:, :-1] = (prefix[:, :-1] + 5) % len(decoder.dictionary)
        logits, _ = decoder(prefix, encoder_out=encoder_out, incremental_state=state)
        assert logits.shape == (prefix.size(0), 1, len(decoder.dictionary))
        steps.append(logits)
    return torch.cat(steps, dim=1)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"encoder_bidirectional": True},
        {"decoder_attention": False},
        {"encoder_layers": 1, "decoder_layers": 1, "decoder_hidden_size": 10},
        {"decoder_embed_dim": 9, "share_decoder_input_output_embed": True},
    ],
)
def test_lstm_incremental_equals_full_forward(task, batch, overrides):
    model = small_lstm(task, **overrides)
    net_input = batch["net_input"]
    prev = net_input["prev_output_tokens"]
    with torch.no_grad():
        full, _ = model(**net_input)
        encoder_out = model.encoder(net_input["src_tokens"], net_input["src_lengths"])
        state = {}
        steps = decode_step_by_step(model.decoder, prev, encoder_out, state, 0, prev.size(1))
    assert full.dtype == torch.float32
    assert (steps - full).abs().max().item() < TOL


def test_lstm_incremental_after_reorder(task, batch):
    model = small_lstm(task, encoder_bidirectional=True)
    net_input = batch["net_input"]
    src, lengths, prev = (
        net_input["src_tokens"],
        net_input["src_lengths"],
        net_input["prev_output_tokens"],
    )
    new_order = torch.tensor([2, 0, 0, 3, 1, 2])
    split = 2
    with torch.no_grad():
        encoder_out = model.encoder(src, lengths)
        state = {}
        decode_step_by_step(model.decoder, prev, encoder_out, state, 0, split)
        model.decoder.reorder_incremental_state(state, new_order)
        encoder_out = model.encoder.reorder_encoder_out(encoder_out, new_order)
        steps = decode_step_by_step(
            model.decoder, prev[new_order], encoder_out, state, split, prev.size(1)
        )
        full, _ = model(src[new_order], lengths[new_order], prev[new_order])
    assert steps.shape == (len(new_order), prev.size(1) - split, len(task.target_dictionary))
    assert (steps - full[:, split:]).abs().max().item() < TOL


def small_lm(task, **overrides):
    values = dict(decoder_embed_dim=12, decoder_hidden_size=10, decoder_out_embed_dim=8)
    values.update(overrides)
    torch.manual_seed(0)
    cfg = make_config(LSTMLanguageModelConfig, "lstm_lm", values)
    return LSTMLanguageModel.build_model(cfg, task).eval()


@pytest.mark.parametrize("overrides", [{}, {"decoder_layers": 3, "residuals": True}])
def test_lstm_lm_incremental_equals_full_forward_and_reorder(task, batch, overrides):
    model = small_lm(task, **overrides)
    tokens = batch["net_input"]["prev_output_tokens"]
    new_order = torch.tensor([3, 3, 1, 0])
    split = 3
    with torch.no_grad():
        full, _ = model(tokens)
        steps = decode_step_by_step(model.decoder, tokens, None, {}, 0, tokens.size(1))
        assert (steps - full).abs().max().item() < TOL

        state = {}
        decode_step_by_step(model.decoder, tokens, None, state, 0, split)
        model.decoder.reorder_incremental_state(state, new_order)
        steps = decode_step_by_step(
            model.decoder, tokens[new_order], None, state, split, tokens.size(1)
        )
        full, _ = model(tokens[new_order])
    assert (steps - full[:, split:]).abs().max().item() < TOL


def test_decoders_share_one_state_dict_without_clashes(task, batch):
    """Two decoders (an ensemble) keep separate caches in one incremental_state dict."""
    a, b = small_lstm(task), small_lstm(task, decoder_attention=False)
    net_input = batch["net_input"]
    prev = net_input["prev_output_tokens"]
    state = {}
    with torch.no_grad():
        enc_a = a.encoder(net_input["src_tokens"], net_input["src_lengths"])
        enc_b = b.encoder(net_input["src_tokens"], net_input["src_lengths"])
        steps_a, steps_b = [], []
        for t in range(1, prev.size(1) + 1):
            steps_a.append(a.decoder(prev[:, :t], enc_a, state)[0])
            steps_b.append(b.decoder(prev[:, :t], enc_b, state)[0])
        full_a, full_b = a(**net_input)[0], b(**net_input)[0]
    assert (torch.cat(steps_a, 1) - full_a).abs().max().item() < TOL
    assert (torch.cat(steps_b, 1) - full_b).abs().max().item() < TOL
