"""One step of a search: from next-token log-probabilities to ranked candidate extensions.

Every strategy takes ``lprobs`` (bsz x beam x V, already constrained; the strategy may
overwrite it) and each hypothesis' cumulative score so far (bsz x beam, ``None`` at step 0);
NaN log-probabilities (a model's overflow) count as ``-inf``. It returns three bsz x C tensors,
best candidates first where the strategy ranks them: the candidates' cumulative scores, their
tokens, and the beam each one extends. At step 0 every beam of a sentence holds the same
hypothesis (``lprobs`` may be one row per sentence, broadcast over the beams), so only the
first beam is expanded.
"""

from __future__ import annotations

import functools
import math

import torch

Candidates = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class BeamSearch:
    """Keeps the ``2 * beam`` best extensions, so that ``beam`` of them remain when some end."""

    def step(self, step: int, lprobs: torch.Tensor, prev_scores: torch.Tensor | None) -> Candidates:
        bsz, beam, vocab = lprobs.shape
        width = min(2 * beam, beam * vocab)
        if step == 0 and width <= vocab:  # the first beam's candidates only
            scores, tokens = _top(lprobs[:, 0], width)
            return scores, tokens, torch.zeros_like(tokens)
        if step == 0:  # (the beams may be one row expanded: write into a copy)
            lprobs = lprobs.clone()
            lprobs[:, 1:] = -math.inf
        else:
            lprobs.add_(prev_scores.unsqueeze(-1))  # in place: a pass and a copy fewer
        scores, flat_index = _top(lprobs.view(bsz, beam * vocab), width)
        return scores, flat_index % vocab, torch.div(flat_index, vocab, rounding_mode="floor")


def _top(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest of each row of ``scores`` and their indices, NaN counted as ``-inf``.

    torch's top-k ranks NaN above every number, so a row holding one returns it among its
    first: only then are the NaNs replaced (in place) and the top-k taken again, which spares
    the common case a pass over the whole matrix."""
    top, index = _largest(scores, k)
    if bool(torch.isnan(top).any()):
        scores.masked_fill_(torch.isnan(scores), -math.inf)
        top, index = _largest(scores, k)
    return top, index


def _largest(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``scores.topk(k, dim=1)``, for long rows through their blocks: the ``k`` blocks with the
    largest maxima hold the row's ``k`` largest values (a value among the ``k`` largest has at
    most ``k - 1`` larger ones, so at most ``k - 1`` blocks have a larger maximum than its own),
    so one pass for the blocks' maxima and two small top-k's replace a top-k over the whole row.
    torch's CPU top-k sorts (value, index) pairs of each row: over a beam x 8000 vocabulary it
    took 4.5 ms a step, the blocks ~1 ms (bench/RESULTS.md)."""
    rows, width = scores.shape
    block = _block_size(width, k)
    if block is None or not scores.is_contiguous():
        return scores.topk(k, dim=1)
    blocks = scores.view(rows, width // block, block)
    best = blocks.amax(dim=2).topk(k, dim=1).indices  # rows x k blocks
    values = blocks.gather(1, best.unsqueeze(2).expand(rows, k, block)).view(rows, k * block)
    top, within = values.topk(k, dim=1)
    return top, best.gather(1, within // block) * block + within % block


@functools.cache
def _block_size(width: int, k: int) -> int | None:
    """The divisor of ``width`` nearest ``sqrt(width / k)`` (balancing the two small top-k's),
    for rows long enough that blocks pay; ``None`` where no divisor between 16 and 1024
    leaves at least ``4 * k`` blocks. Cached: the search asks every step, with a handful of
    widths per run."""
    if width < 1024 * k:
        return None
    target = math.sqrt(width / k)
    sizes = [b for b in range(16, 1025) if width % b == 0 and width // b >= 4 * k]
    return min(sizes, key=lambda b: abs(b - target), default=None)


class Sampling:
    """Draws one next token per hypothesis, optionally restricted to the ``topk`` most likely
    tokens or to the nucleus (the smallest set of most likely tokens whose mass reaches
    ``topp``). A candidate's score is its log-probability under the model (the restricted set is
    not renormalised), as in fairseq. ``generator`` makes draws reproducible."""

    def __init__(
        self, topk: int = -1, topp: float = -1.0, generator: torch.Generator | None = None
    ) -> None:
        self.topk = topk
        self.topp = topp
        self.generator = generator

    def step(self, step: int, lprobs: torch.Tensor, prev_scores: torch.Tensor | None) -> Candidates:
        bsz, beam, _ = lprobs.shape
        lprobs = lprobs.masked_fill(torch.isnan(lprobs), -math.inf)
        if step == 0:
            lprobs = lprobs[:, :1]
        if self.topp > 0:
            probs, vocab_index = nucleus(lprobs, self.topp)
        elif self.topk > 0:
            top_lprobs, vocab_index = lprobs.topk(min(self.topk, lprobs.size(-1)), dim=-1)
            probs = top_lprobs.exp()
        else:
            probs, vocab_index = lprobs.exp(), None
        rows = probs.reshape(-1, probs.size(-1))
        # A row with no mass left (every token blocked) draws its first entry, which scores -inf.
        draw_from = rows.clone()
        draw_from[rows.sum(dim=-1) <= 0, 0] = 1.0
        if step == 0:
            choice = torch.multinomial(draw_from, beam, replacement=True, generator=self.generator)
            probs = probs.expand(bsz, beam, -1)
            beams = choice.new_zeros(bsz, beam)
        else:
            choice = torch.multinomial(draw_from, 1, replacement=True, generator=self.generator)
            beams = torch.arange(beam, device=choice.device).repeat(bsz, 1)
        choice = choice.view(bsz, beam, 1)
        scores = probs.gather(2, choice).squeeze(2).log()
        if vocab_index is not None:
            tokens = vocab_index.expand(bsz, beam, -1).gather(2, choice).squeeze(2)
        else:
            tokens = choice.squeeze(2)
        if prev_scores is not None:
            scores = scores + prev_scores
        return scores, tokens, beams


def nucleus(lprobs: torch.Tensor, topp: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The probabilities (others zeroed) and vocabulary indices of the most likely tokens, in
    decreasing order, up to and including the first one at which the mass reaches ``topp``."""
    sorted_probs, sorted_index = lprobs.exp().sort(dim=-1, descending=True)
    mass = sorted_probs.cumsum(dim=-1)
    mass_before = torch.cat([torch.zeros_like(mass[..., :1]), mass[..., :-1]], dim=-1)
    keep = mass_before < topp
    width = int(keep.sum(dim=-1).max().item())
    probs = sorted_probs[..., :width].masked_fill(~keep[..., :width], 0.0)
    return probs, sorted_index[..., :width]
