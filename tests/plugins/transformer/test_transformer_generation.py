"""Beam search through the core's SequenceGenerator: with the cache (reordered, shrinking as
sentences finish) it finds the same hypotheses, with the same scores, as without it."""

from __future__ import annotations

import torch

from seqcore.generation.sequence_generator import SequenceGenerator


def test_beam_search_with_cache_equals_recomputing_the_prefix(helpers):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = helpers.build(helpers.tiny_config(), 40, 48).eval()
    src = helpers.left_pad(helpers.random_tokens(gen, 4, 6, 40), [6, 2, 4, 5])
    sample = {"net_input": {"src_tokens": src, "src_lengths": src.ne(1).sum(1)}}
    tgt_dict = model.decoder.dictionary
    results = [
        SequenceGenerator(
            [model], tgt_dict, beam_size=3, max_len_b=8, nbest=3, recompute_prefix=recompute
        ).generate(sample)
        for recompute in (False, True)
    ]
    cached, recomputed = results
    assert len(cached) == 4
    for hyps_a, hyps_b in zip(cached, recomputed):
        assert len(hyps_a) == len(hyps_b) == 3
        for a, b in zip(hyps_a, hyps_b):
            assert torch.equal(a["tokens"], b["tokens"])
            assert abs(float(a["score"]) - float(b["score"])) < 1e-5
            assert (a["positional_scores"] - b["positional_scores"]).abs().max() < 1e-5
