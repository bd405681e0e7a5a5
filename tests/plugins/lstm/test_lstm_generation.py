"""The lstm model under the core's beam search: decoding with the cache (reordered as beams
are pruned and sentences finish) gives what recomputing the whole prefix gives, and a model
that learnt four sentences by heart translates them back."""

import torch
import torch.nn.functional as F

from seqcore.config import make_config
from seqcore.generation import SequenceGenerator
from seqcore_lstm import LSTMConfig, LSTMModel


def train(model, batch, pad, steps=80):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        lprobs = model.get_normalized_probs(model(**batch["net_input"]), log_probs=True)
        loss = F.nll_loss(
            lprobs.view(-1, lprobs.size(-1)), batch["target"].view(-1), ignore_index=pad
        )
        loss.backward()
        optimizer.step()
    model.eval()


def test_beam_search_with_cache_equals_recomputation_and_recovers_targets(task, batch):
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
    tgt_dict = task.target_dictionary
    train(model, batch, tgt_dict.pad())

    def generate(recompute_prefix):
        generator = SequenceGenerator(
            [model], tgt_dict, beam_size=3, max_len_b=10, recompute_prefix=recompute_prefix
        )
        with torch.no_grad():
            return generator.generate(batch)

    cached, recomputed = generate(False), generate(True)
    for hyps_cached, hyps_recomputed, target in zip(cached, recomputed, batch["target"]):
        assert len(hyps_cached) == len(hyps_recomputed)
        for a, b in zip(hyps_cached, hyps_recomputed):
            assert a["tokens"].tolist() == b["tokens"].tolist()
            assert abs(float(a["score"]) - float(b["score"])) < 1e-5
        assert hyps_cached[0]["tokens"].tolist() == target[target.ne(tgt_dict.pad())].tolist()
