"""A tiny model learns a few sentences by heart (torch.optim.Adam, CPU, a few seconds)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from seqcore.data import Dictionary
from seqcore_transformer import TransformerLanguageModel, TransformerModel

SOURCE = ["ich bin ein berliner", "das ist gut", "guten morgen", "wir sehen uns morgen"]
TARGET = ["i am a berliner", "that is good", "good morning", "see you tomorrow"]


def encode(lines, d: Dictionary, left_pad: bool) -> torch.Tensor:
    rows = [d.encode_line(line, add_if_not_exist=False).long() for line in lines]
    out = torch.full((len(rows), max(len(r) for r in rows)), d.pad(), dtype=torch.long)
    for i, r in enumerate(rows):
        if left_pad:
            out[i, out.size(1) - len(r) :] = r
        else:
            out[i, : len(r)] = r
    return out


def dictionary(lines) -> Dictionary:
    d = Dictionary()
    for line in lines:
        for word in line.split():
            d.add_symbol(word)
    return d


def test_translation_model_overfits(helpers):
    torch.manual_seed(0)
    src_dict, tgt_dict = dictionary(SOURCE), dictionary(TARGET)
    src = encode(SOURCE, src_dict, left_pad=True)
    target = encode(TARGET, tgt_dict, left_pad=False)
    # prev_output_tokens: the target with its final </s> moved to the front
    prev = target.clone()
    prev[:, 0] = tgt_dict.eos()
    for i, line in enumerate(TARGET):
        n = len(line.split()) + 1
        prev[i, 1:n] = target[i, : n - 1]
        prev[i, n:] = tgt_dict.pad()
    cfg = helpers.tiny_config(encoder_embed_dim=32, decoder_embed_dim=32, dropout=0.0)
    model = TransformerModel.build_model(cfg, helpers.Task(src_dict, tgt_dict))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        logits, _ = model(src, None, prev)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), target.reshape(-1), ignore_index=tgt_dict.pad()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    model.eval()
    with torch.no_grad():
        predicted = model(src, None, prev)[0].argmax(-1)
    real = target.ne(tgt_dict.pad())
    assert torch.equal(predicted[real], target[real])


def test_language_model_overfits(helpers):
    torch.manual_seed(0)
    d = dictionary(TARGET)
    tokens = encode(TARGET, d, left_pad=False)
    inputs = torch.cat([torch.full((len(TARGET), 1), d.eos()), tokens[:, :-1]], dim=1)
    inputs = inputs.masked_fill(inputs.eq(d.eos()) & (torch.arange(inputs.size(1)) > 0), d.pad())
    model = TransformerLanguageModel.build_model(
        helpers.tiny_lm_config(decoder_embed_dim=32, dropout=0.0), helpers.Task(d, d)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        logits, _ = model(inputs)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), tokens.reshape(-1), ignore_index=d.pad()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # the first word of each sentence cannot be told apart from "</s>" alone: 4 equally likely
    # choices at 4 of 16 positions bound the loss below by ln(4) * 4 / 16 = 0.347
    assert loss.item() < 0.40
