"""The vectorised pieces of the search against plain Python references."""

from __future__ import annotations

import math

import pytest
import torch

from seqcore.generation import BeamSearch, Sampling, block_repeated_ngrams, nucleus


def banned_by_brute_force(row: list[int], n: int) -> set[int]:
    generated = row[1:]  # the begin-of-sentence token is not part of any n-gram
    if len(generated) < n:
        return set()
    last = tuple(generated[len(generated) - n + 1 :]) if n > 1 else ()
    return {
        generated[i + n - 1]
        for i in range(len(generated) - n + 1)
        if tuple(generated[i : i + n - 1]) == last
    }


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("length", [1, 2, 3, 5, 12])
def test_ngram_blocking_bans_exactly_the_repeating_tokens(n, length):
    g = torch.Generator().manual_seed(n * 100 + length)
    tokens = torch.randint(4, 8, (30, length), generator=g)  # 4 symbols: many repeats
    tokens[:, 0] = 2
    lprobs = torch.randn(30, 9, generator=g).log_softmax(-1)
    blocked = block_repeated_ngrams(tokens, lprobs.clone(), n)
    for row, before, after in zip(tokens.tolist(), lprobs, blocked):
        banned = banned_by_brute_force(row, n)
        assert {i for i in range(9) if after[i] == -math.inf} == banned
        kept = [i for i in range(9) if i not in banned]
        assert torch.equal(after[kept], before[kept])


def test_beam_search_step_ranks_cumulative_scores():
    g = torch.Generator().manual_seed(0)
    lprobs = torch.randn(2, 3, 5, generator=g).log_softmax(-1)
    prev = torch.randn(2, 3, generator=g)
    scores, tokens, beams = BeamSearch().step(1, lprobs.clone(), prev)  # it may overwrite them
    assert scores.shape == (2, 6)
    for b in range(2):
        every = sorted(
            ((prev[b, k] + lprobs[b, k, v]).item(), k, v) for k in range(3) for v in range(5)
        )[::-1][:6]
        assert [(k, v) for _, k, v in every] == list(zip(beams[b].tolist(), tokens[b].tolist()))
        torch.testing.assert_close(scores[b], torch.tensor([s for s, _, _ in every]))


def test_beam_search_first_step_expands_only_the_first_beam():
    lprobs = torch.randn(1, 4, 6).log_softmax(-1)
    scores, tokens, beams = BeamSearch().step(0, lprobs, None)
    finite = scores.isfinite()
    assert (beams[finite] == 0).all()
    torch.testing.assert_close(scores[finite], lprobs[0, 0].sort(descending=True).values)


@pytest.mark.parametrize(
    "probs,topp,kept",
    [
        ([0.1, 0.5, 0.15, 0.25], 0.7, [1, 3]),  # 0.5 < 0.7 -> add 0.25 (reaches 0.75)
        ([0.1, 0.5, 0.15, 0.25], 0.75, [1, 3]),  # mass 0.75 reached exactly: stop there
        ([0.1, 0.5, 0.15, 0.25], 0.76, [1, 3, 2]),
        ([0.1, 0.5, 0.15, 0.25], 0.3, [1]),
        ([0.1, 0.5, 0.15, 0.25], 1.0, [1, 3, 2, 0]),
    ],
)
def test_nucleus_is_the_smallest_top_set_reaching_topp(probs, topp, kept):
    p = torch.tensor(probs, dtype=torch.float64)
    out_probs, index = nucleus(p.log().view(1, 1, -1), topp)
    chosen = index[0, 0][out_probs[0, 0] > 0].tolist()
    assert chosen == kept
    torch.testing.assert_close(out_probs[0, 0][: len(kept)], p[kept])


def test_sampling_scores_are_model_log_probs_plus_the_prefix_score():
    lprobs = torch.randn(3, 2, 7).log_softmax(-1)
    prev = torch.randn(3, 2)
    sampler = Sampling(topk=3, generator=torch.Generator().manual_seed(1))
    scores, tokens, beams = sampler.step(4, lprobs, prev)
    assert beams.tolist() == [[0, 1]] * 3
    top3 = lprobs.topk(3, dim=-1).indices
    for b in range(3):
        for k in range(2):
            assert tokens[b, k] in top3[b, k]
            assert scores[b, k].item() == pytest.approx(
                (prev[b, k] + lprobs[b, k, tokens[b, k]]).item(), abs=1e-6
            )


def test_sampling_a_row_with_nothing_left_gives_a_dead_candidate():
    lprobs = torch.full((1, 1, 5), -math.inf)
    scores, _, _ = Sampling(generator=torch.Generator().manual_seed(0)).step(
        1, lprobs, torch.zeros(1, 1)
    )
    assert scores.item() == -math.inf


@pytest.mark.parametrize("vocab", [8000, 2053, 4096])  # 2053 x 5 has no block size: plain top-k
def test_beam_search_over_a_large_vocabulary_ranks_as_a_full_sort(vocab):
    """Long rows (beam x vocabulary) are ranked through their blocks' maxima; the candidates are
    those of a full descending sort of the cumulative scores (random scores: no ties)."""
    g = torch.Generator().manual_seed(vocab)
    bsz, beam = 6, 5
    lprobs = torch.randn(bsz, beam, vocab, generator=g).log_softmax(-1)
    lprobs[0, :, : vocab // 2] = -math.inf  # whole blocks of -inf
    prev = torch.randn(bsz, beam, generator=g)
    scores, tokens, beams = BeamSearch().step(3, lprobs.clone(), prev)
    flat = (lprobs + prev.unsqueeze(-1)).view(bsz, -1)
    expected, order = flat.sort(dim=1, descending=True)
    assert torch.equal(scores, expected[:, : 2 * beam])
    assert torch.equal(tokens, order[:, : 2 * beam] % vocab)
    assert torch.equal(beams, order[:, : 2 * beam] // vocab)


def test_beam_search_over_a_large_vocabulary_counts_nan_as_minus_infinity():
    g = torch.Generator().manual_seed(3)
    lprobs = torch.randn(4, 5, 8000, generator=g).log_softmax(-1)
    lprobs[1, 2, 17] = lprobs[3, 0, 7999] = math.nan
    prev = torch.zeros(4, 5)
    scores, tokens, beams = BeamSearch().step(2, lprobs.clone(), prev)
    reference = lprobs.masked_fill(lprobs.isnan(), -math.inf).view(4, -1)
    expected, order = reference.sort(dim=1, descending=True)
    assert not scores.isnan().any()
    assert torch.equal(scores, expected[:, :10]) and torch.equal(tokens, order[:, :10] % 8000)
