"""Tiny models learn four sentences by heart on CPU in a few seconds."""

import math

import torch
import torch.nn.functional as F

from seqcore.config import make_config
from seqcore_lstm import LSTMConfig, LSTMLanguageModel, LSTMLanguageModelConfig, LSTMModel

STEPS = 80
LR = 0.03
LOSS_BOUND = 0.05  # mean cross-entropy per target token, in nats, above the best reachable


def token_loss(model, net_output, target, pad):
    lprobs = model.get_normalized_probs(net_output, log_probs=True)
    return F.nll_loss(lprobs.view(-1, lprobs.size(-1)), target.view(-1), ignore_index=pad)


def train(model, forward, target, pad):
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = token_loss(model, forward(), target, pad)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        return token_loss(model, forward(), target, pad).item()


def test_tiny_lstm_overfits(task, batch):
    torch.manual_seed(0)
    cfg = make_config(
        LSTMConfig,
        "lstm",
        dict(
            encoder_embed_dim=16,
            decoder_embed_dim=16,
            decoder_out_embed_dim=16,
            encoder_bidirectional=True,
            dropout=0.0,
        ),
    )
    model = LSTMModel.build_model(cfg, task)
    pad = task.target_dictionary.pad()
    with torch.no_grad():
        initial = token_loss(model, model(**batch["net_input"]), batch["target"], pad).item()
    final = train(model, lambda: model(**batch["net_input"]), batch["target"], pad)
    assert initial > 2.0
    assert final < LOSS_BOUND, (initial, final)


def test_tiny_lstm_lm_overfits(task, batch):
    torch.manual_seed(0)
    cfg = make_config(
        LSTMLanguageModelConfig,
        "lstm_lm",
        dict(decoder_embed_dim=16, decoder_hidden_size=32, decoder_out_embed_dim=16, dropout=0.0),
    )
    model = LSTMLanguageModel.build_model(cfg, task)
    pad = task.target_dictionary.pad()
    # a language model reads </s> w1 w2 ... and predicts w1 w2 ... </s>
    tokens, target = batch["net_input"]["prev_output_tokens"], batch["target"]
    with torch.no_grad():
        initial = token_loss(model, model(tokens), target, pad).item()
    final = train(model, lambda: model(tokens), target, pad)
    # the four sentences start with four different words, which nothing before them predicts:
    # the best reachable mean loss is ln 4 on each first word, zero elsewhere
    first_words = {int(t) for t in target[:, 0]}
    assert len(first_words) == 4
    floor = 4 * math.log(4) / int(target.ne(pad).sum())
    assert initial > 2.0
    assert final < floor + LOSS_BOUND, (initial, final, floor)
