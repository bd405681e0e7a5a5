"""Parameter counts against formulas, and fairseq's parameter names and initialisation."""

import pytest
import torch

from seqcore.config import make_config
from seqcore_lstm import LSTMConfig, LSTMLanguageModel, LSTMLanguageModelConfig, LSTMModel


def lstm_layer(input_size, h):
    """One layer and direction of torch's nn.LSTM / nn.LSTMCell: four gates, each with an
    input weight (h x input), a recurrent weight (h x h) and two biases (h)."""
    return 4 * (h * (input_size + h) + 2 * h)


def linear(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("attention", [True, False])
def test_lstm_parameter_count(task, bidirectional, attention):
    v_src, v_tgt = len(task.source_dictionary), len(task.target_dictionary)
    e_enc, h_enc, e_dec, h_dec, out, layers = 6, 7, 5, 9, 4, 2
    cfg = make_config(
        LSTMConfig,
        "lstm",
        dict(
            encoder_embed_dim=e_enc,
            encoder_hidden_size=h_enc,
            encoder_layers=layers,
            encoder_bidirectional=bidirectional,
            decoder_embed_dim=e_dec,
            decoder_hidden_size=h_dec,
            decoder_layers=layers,
            decoder_out_embed_dim=out,
            decoder_attention=attention,
        ),
    )
    dirs = 2 if bidirectional else 1
    enc_out = dirs * h_enc

    expected = v_src * e_enc  # encoder embedding
    expected += dirs * lstm_layer(e_enc, h_enc)  # encoder layer 1
    expected += (layers - 1) * dirs * lstm_layer(enc_out, h_enc)  # upper encoder layers
    expected += v_tgt * e_dec  # decoder embedding
    expected += 2 * linear(enc_out, h_dec)  # encoder final hidden / cell -> decoder size
    expected += lstm_layer(e_dec + h_dec, h_dec)  # decoder layer 1 with input feeding
    expected += (layers - 1) * lstm_layer(h_dec, h_dec)
    if attention:
        expected += linear(h_dec, enc_out, bias=False) + linear(h_dec + enc_out, h_dec, False)
    expected += linear(h_dec, out)  # additional_fc (hidden size != output embedding size)
    expected += linear(out, v_tgt)  # fc_out

    model = LSTMModel.build_model(cfg, task)
    assert count(model) == expected


def test_lstm_parameter_count_with_shared_embeddings(helpers):
    d = helpers.make_dictionary("a b c d e f g")
    task = helpers.Task(d, d)
    v, e = len(d), 8
    sizes = dict(encoder_embed_dim=e, decoder_embed_dim=e, decoder_out_embed_dim=e)

    def build(**sharing):
        return LSTMModel.build_model(make_config(LSTMConfig, "lstm", {**sizes, **sharing}), task)

    # equal hidden sizes: no projections of the encoder states, no additional_fc
    base = lstm_layer(e, e) + lstm_layer(2 * e, e) + linear(e, e, False) + linear(2 * e, e, False)
    assert count(build()) == 2 * v * e + base + linear(e, v)
    assert count(build(share_decoder_input_output_embed=True)) == 2 * v * e + base
    model = build(share_all_embeddings=True)
    assert count(model) == v * e + base
    assert model.encoder.embed_tokens is model.decoder.embed_tokens


def test_lstm_lm_parameter_count(task):
    v = len(task.target_dictionary)
    e, h, out, layers = 6, 10, 6, 3
    cfg = make_config(
        LSTMLanguageModelConfig,
        "lstm_lm",
        dict(
            decoder_embed_dim=e,
            decoder_hidden_size=h,
            decoder_out_embed_dim=out,
            decoder_layers=layers,
            share_decoder_input_output_embed=True,
        ),
    )
    # no input feeding, no attention, no projections of encoder states; tied output
    expected = v * e + lstm_layer(e, h) + (layers - 1) * lstm_layer(h, h) + linear(h, out)
    assert count(LSTMLanguageModel.build_model(cfg, task)) == expected


def test_fairseq_parameter_names_and_initialisation(task):
    cfg = make_config(
        LSTMConfig,
        "lstm",
        dict(encoder_embed_dim=6, encoder_bidirectional=True, decoder_embed_dim=6),
    )
    model = LSTMModel.build_model(cfg, task)
    names = {n for n, _ in model.named_parameters()}
    for name in (
        "encoder.embed_tokens.weight",
        "encoder.lstm.weight_ih_l0",
        "encoder.lstm.weight_hh_l0_reverse",
        "decoder.embed_tokens.weight",
        "decoder.encoder_hidden_proj.weight",
        "decoder.encoder_cell_proj.bias",
        "decoder.layers.0.weight_ih",
        "decoder.attention.input_proj.weight",
        "decoder.attention.output_proj.weight",
        "decoder.additional_fc.weight",
        "decoder.fc_out.weight",
        "decoder.fc_out.bias",
    ):
        assert name in names, name
    for name, p in model.named_parameters():
        assert p.abs().max().item() <= 0.1, name
    pad = task.source_dictionary.pad()
    assert torch.all(model.encoder.embed_tokens.weight[pad] == 0)
    assert torch.all(model.decoder.embed_tokens.weight[task.target_dictionary.pad()] == 0)


def test_freeze_embeddings(task):
    cfg = make_config(
        LSTMConfig,
        "lstm",
        dict(
            encoder_embed_dim=6,
            decoder_embed_dim=6,
            encoder_freeze_embed=True,
            decoder_freeze_embed=True,
        ),
    )
    model = LSTMModel.build_model(cfg, task)
    assert not model.encoder.embed_tokens.weight.requires_grad
    assert not model.decoder.embed_tokens.weight.requires_grad
    assert model.decoder.fc_out.weight.requires_grad
