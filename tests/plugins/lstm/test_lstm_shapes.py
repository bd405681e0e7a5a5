"""Shapes of encoder and decoder outputs, unidirectional and bidirectional, and padding."""

import pytest
import torch

from seqcore.config import make_config
from seqcore_lstm import LSTMConfig, LSTMModel

B, H, LAYERS = 4, 10, 3


def build(task, bidirectional):
    cfg = make_config(
        LSTMConfig,
        "lstm",
        dict(
            encoder_embed_dim=8,
            encoder_hidden_size=H,
            encoder_layers=LAYERS,
            encoder_bidirectional=bidirectional,
            decoder_embed_dim=8,
            decoder_hidden_size=12,
            decoder_layers=LAYERS,
            decoder_out_embed_dim=8,
        ),
    )
    torch.manual_seed(0)
    return LSTMModel.build_model(cfg, task).eval()


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_output_shapes(task, batch, bidirectional):
    model = build(task, bidirectional)
    net_input = batch["net_input"]
    src_len = net_input["src_tokens"].size(1)
    tgt_len = net_input["prev_output_tokens"].size(1)
    units = 2 * H if bidirectional else H
    assert model.encoder.output_units == units

    with torch.no_grad():
        encoder_out = model.encoder(net_input["src_tokens"], net_input["src_lengths"])
        logits, extra = model(**net_input)
    assert encoder_out["encoder_out"].shape == (B, src_len, units)
    assert encoder_out["encoder_hiddens"].shape == (B, LAYERS, units)
    assert encoder_out["encoder_cells"].shape == (B, LAYERS, units)
    assert encoder_out["encoder_padding_mask"].shape == (B, src_len)
    assert logits.shape == (B, tgt_len, len(task.target_dictionary))

    attn = extra["attn"][0]
    assert attn.shape == (B, tgt_len, src_len)
    mask = encoder_out["encoder_padding_mask"]
    assert torch.all(attn.masked_select(mask.unsqueeze(1).expand_as(attn)) == 0)
    assert torch.allclose(attn.sum(-1), torch.ones(B, tgt_len))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_encoder_ignores_padding(task, batch, bidirectional):
    """Each sentence of a left-padded batch is encoded as it is alone, without padding: its
    states come first (right-padded layout), then zeros; the final states are the same."""
    model = build(task, bidirectional)
    net_input = batch["net_input"]
    src, lengths = net_input["src_tokens"], net_input["src_lengths"]
    with torch.no_grad():
        batched = model.encoder(src, lengths)
        for i in range(B):
            n = int(lengths[i])
            alone = model.encoder(src[i : i + 1, -n:], lengths[i : i + 1])
            out = batched["encoder_out"][i]
            torch.testing.assert_close(out[:n], alone["encoder_out"][0], atol=1e-6, rtol=0)
            assert torch.all(out[n:] == 0)
            assert batched["encoder_padding_mask"][i].tolist() == [False] * n + [True] * (
                src.size(1) - n
            )
            for key in ("encoder_hiddens", "encoder_cells"):
                torch.testing.assert_close(batched[key][i], alone[key][0], atol=1e-6, rtol=0)


def test_bidirectional_final_states_are_forward_then_backward(task, batch):
    """The final state of a bidirectional layer is [forward state at the last token; backward
    state at the first token], read off the top layer's outputs."""
    model = build(task, True)
    net_input = batch["net_input"]
    src, lengths = net_input["src_tokens"], net_input["src_lengths"]
    with torch.no_grad():
        out = model.encoder(src, lengths)
    top = out["encoder_hiddens"][:, -1]
    for i in range(B):
        n = int(lengths[i])
        torch.testing.assert_close(top[i, :H], out["encoder_out"][i, n - 1, :H])
        torch.testing.assert_close(top[i, H:], out["encoder_out"][i, 0, H:])
