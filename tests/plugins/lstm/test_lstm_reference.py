"""The whole lstm model against a float64 recomputation written out here from fairseq's
description: encoder = torch's nn.LSTM run on each sentence alone; decoder = LSTM-cell
equations with initial states projected from the encoder's final states, input feeding,
attention of the top layer's state, then additional_fc and fc_out."""

import torch

from seqcore.config import make_config
from seqcore_lstm import LSTMConfig, LSTMModel


def cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """torch's LSTM cell: gates i, f, g, o from one affine map of [x; h]."""
    i, f, g, o = (w_ih @ x + b_ih + w_hh @ h + b_hh).chunk(4)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def reference_logits(model, src_tokens, src_lengths, prev_output_tokens):
    enc, dec = model.encoder, model.decoder
    pad = enc.padding_idx
    p = {k: v.detach() for k, v in dec.named_parameters()}
    logits = []
    for b in range(src_tokens.size(0)):
        n = int(src_lengths[b])
        src = src_tokens[b][src_tokens[b].ne(pad)]
        assert len(src) == n
        with torch.no_grad():
            outs, (h_n, c_n) = enc.lstm(enc.embed_tokens(src).unsqueeze(1))
        source = outs[:, 0]  # n x 2H
        layers = dec.num_layers
        # h_n: (layers * 2) x 1 x H, forward then backward per layer
        h0 = [torch.cat((h_n[2 * i, 0], h_n[2 * i + 1, 0])) for i in range(layers)]
        c0 = [torch.cat((c_n[2 * i, 0], c_n[2 * i + 1, 0])) for i in range(layers)]
        h = [p["encoder_hidden_proj.weight"] @ x + p["encoder_hidden_proj.bias"] for x in h0]
        c = [p["encoder_cell_proj.weight"] @ x + p["encoder_cell_proj.bias"] for x in c0]
        feed = torch.zeros(dec.hidden_size, dtype=torch.float64)
        rows = []
        for tok in prev_output_tokens[b]:
            x = torch.cat((p["embed_tokens.weight"][tok], feed))
            for i in range(layers):
                h[i], c[i] = cell(
                    x,
                    h[i],
                    c[i],
                    p[f"layers.{i}.weight_ih"],
                    p[f"layers.{i}.weight_hh"],
                    p[f"layers.{i}.bias_ih"],
                    p[f"layers.{i}.bias_hh"],
                )
                x = h[i]
            scores = source @ (p["attention.input_proj.weight"] @ h[-1])
            context = torch.softmax(scores, dim=0) @ source
            feed = torch.tanh(p["attention.output_proj.weight"] @ torch.cat((context, h[-1])))
            out = p["additional_fc.weight"] @ feed + p["additional_fc.bias"]
            rows.append(p["fc_out.weight"] @ out + p["fc_out.bias"])
        logits.append(torch.stack(rows))
    return torch.stack(logits)


def test_lstm_model_matches_reference(task, batch):
    cfg = make_config(
        LSTMConfig,
        "lstm",
        dict(
            encoder_embed_dim=5,
            encoder_hidden_size=4,
            encoder_layers=2,
            encoder_bidirectional=True,
            decoder_embed_dim=6,
            decoder_hidden_size=7,
            decoder_layers=2,
            decoder_out_embed_dim=3,
        ),
    )
    torch.manual_seed(0)
    model = LSTMModel.build_model(cfg, task).double().eval()
    net_input = batch["net_input"]
    with torch.no_grad():
        logits, _ = model(**net_input)
    expected = reference_logits(
        model, net_input["src_tokens"], net_input["src_lengths"], net_input["prev_output_tokens"]
    )
    assert logits.dtype == torch.float64
    assert (logits - expected).abs().max().item() < 1e-10
