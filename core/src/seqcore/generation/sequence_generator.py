"""Batched beam search and sampling over any model with seqcore's incremental-decoding protocol.

The semantics are fairseq's ``SequenceGenerator``:

- Outputs are at most ``min(max_len_a * src_len + max_len_b, max_decoder_positions - 1)`` tokens
  plus ``</s>`` (``src_len`` is the padded source width); at that length ``</s>`` is forced.
  ``</s>`` is forbidden before ``min_len`` tokens, ``<pad>`` always; ``<unk>`` loses
  ``unk_penalty``.
- Each step ranks ``2 * beam`` candidate extensions. A candidate among the first ``beam`` that
  ends in ``</s>`` is a finished hypothesis, scored by its summed log-probabilities divided by
  ``len ** len_penalty`` (``len`` counts the ``</s>``) when ``normalize_scores``. The search goes
  on with the ``beam`` best candidates that do not end in ``</s>``; a sentence is done once it
  has ``beam`` finished hypotheses, or at the maximum length.
- Finished sentences leave the batch: the tokens, scores, encoder outputs and decoder caches of
  the rest are gathered with one index per step, so the work shrinks as sentences end.

What it costs: the first step runs one row per sentence (all its beams are the same hypothesis
then), and its caches are expanded to the beams after it; the encoder outputs are reordered only
when sentences leave (every hypothesis of a sentence has the same); the search's passes over
the beam x vocabulary scores are the log-softmax, the sum with the hypotheses' scores (in
place), and top-k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from seqcore.errors import DataError
from seqcore.generation.config import GenerationConfig, check_generation_options
from seqcore.generation.ensemble import EnsembleModel
from seqcore.generation.ngram_blocking import block_repeated_ngrams
from seqcore.generation.search import BeamSearch, Sampling

Hypothesis = dict[str, Any]


class SequenceGenerator:
    """Generates the ``nbest`` best outputs of each sentence of a batch.

    ``models`` is a list of models sharing ``tgt_dict`` (more than one: an ensemble). Sampling
    draws from torch's global random generator unless ``generator`` is given.
    ``recompute_prefix=True`` feeds the decoders the whole prefix at every step without a cache.
    """

    def __init__(
        self,
        models: Sequence[nn.Module],
        tgt_dict: Any,
        beam_size: int = 1,
        max_len_a: float = 0.0,
        max_len_b: int = 200,
        min_len: int = 1,
        normalize_scores: bool = True,
        len_penalty: float = 1.0,
        unk_penalty: float = 0.0,
        temperature: float = 1.0,
        no_repeat_ngram_size: int = 0,
        sampling: bool = False,
        sampling_topk: int = -1,
        sampling_topp: float = -1.0,
        nbest: int = 1,
        max_len: int = 0,
        recompute_prefix: bool = False,
        generator: torch.Generator | None = None,
        eos: int | None = None,
    ) -> None:
        check_generation_options(
            beam=beam_size,
            nbest=nbest,
            min_len=min_len,
            temperature=temperature,
            no_repeat_ngram_size=no_repeat_ngram_size,
            sampling=sampling,
            sampling_topk=sampling_topk,
            sampling_topp=sampling_topp,
        )
        self.model = EnsembleModel(models, incremental=not recompute_prefix)
        for model in self.model.models:
            model.eval()
        self.pad = tgt_dict.pad()
        self.unk = tgt_dict.unk()
        self.eos = tgt_dict.eos() if eos is None else eos
        self.vocab_size = len(tgt_dict)
        self.beam_size = beam_size
        self.nbest = nbest
        self.max_len_a = max_len_a
        self.max_len_b = max_len_b
        self.max_len = max_len or self.model.max_decoder_positions()
        self.min_len = min_len
        self.normalize_scores = normalize_scores
        self.len_penalty = len_penalty
        self.unk_penalty = unk_penalty
        self.temperature = temperature
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.search = (
            Sampling(sampling_topk, sampling_topp, generator) if sampling else BeamSearch()
        )

    @classmethod
    def from_config(
        cls, models: Sequence[nn.Module], tgt_dict: Any, cfg: GenerationConfig, **kwargs: Any
    ) -> SequenceGenerator:
        """A generator with the options of a :class:`GenerationConfig` (``kwargs`` add more)."""
        return cls(
            models,
            tgt_dict,
            beam_size=cfg.beam,
            max_len_a=cfg.max_len_a,
            max_len_b=cfg.max_len_b,
            min_len=cfg.min_len,
            normalize_scores=not cfg.unnormalized,
            len_penalty=cfg.lenpen,
            unk_penalty=cfg.unkpen,
            temperature=cfg.temperature,
            no_repeat_ngram_size=cfg.no_repeat_ngram_size,
            sampling=cfg.sampling,
            sampling_topk=cfg.sampling_topk,
            sampling_topp=cfg.sampling_topp,
            nbest=cfg.nbest,
            recompute_prefix=cfg.recompute_prefix,
            **kwargs,
        )

    def generate(
        self,
        sample: dict[str, Any],
        prefix_tokens: torch.Tensor | None = None,
        bos_token: int | None = None,
    ) -> list[list[Hypothesis]]:
        """For each sentence of ``sample`` (in batch order), its best hypotheses, best first:
        dicts with ``tokens`` (ending in ``</s>``), ``score``, ``positional_scores`` (the
        log-probability of each token) and ``alignment`` (``None``).

        ``prefix_tokens`` (bsz x P, right-padded with ``<pad>``) forces the first tokens of each
        output; ``bos_token`` starts the decoder input (``</s>`` by default, as in fairseq).

        The search runs under :func:`torch.inference_mode`, not only without gradients: no
        version counters or view records for the few hundred small operations of each step,
        which are most of a step's cost for one sentence or a small model (``interactive``'s
        latency 8-19% less, bench/RESULTS.md). The hypotheses' tensors are copied out of it, so
        the caller may use them as any other tensor (modify them in place, compute with
        gradients).
        """
        with torch.inference_mode():
            finalized = self._search(sample, prefix_tokens, bos_token)
        return [[_plain_tensors(hyp) for hyp in hyps] for hyps in finalized]

    def _search(
        self,
        sample: dict[str, Any],
        prefix_tokens: torch.Tensor | None,
        bos_token: int | None,
    ) -> list[list[Hypothesis]]:
        """:meth:`generate`'s search, its hypotheses' tensors made in inference mode."""
        net_input = sample.get("net_input", {})
        src_tokens = net_input.get("src_tokens")
        if src_tokens is None:
            raise DataError("sample has no net_input.src_tokens to generate from")
        bsz, src_len = src_tokens.shape[:2]
        beam = self.beam_size
        device = src_tokens.device
        max_len = min(int(self.max_len_a * src_len + self.max_len_b), self.max_len - 1)
        if prefix_tokens is not None:
            if prefix_tokens.dim() != 2 or prefix_tokens.size(0) != bsz:
                raise DataError(
                    f"prefix_tokens of shape {tuple(prefix_tokens.shape)} does not match a "
                    f"batch of {bsz} sentences"
                )
            prefix_tokens = prefix_tokens.to(device=device, dtype=torch.long)

        encoder_outs = self.model.encode(src_tokens, net_input.get("src_lengths"))
        states = self.model.new_states()
        # The first step runs one row per sentence (every beam holds the same hypothesis then);
        # the encoder outputs and caches are expanded to `beam` rows per sentence after it.
        rows_per_sentence = 1

        # Row r of tokens/scores is beam r % beam of live sentence r // beam.
        tokens = torch.full((bsz * beam, max_len + 2), self.pad, dtype=torch.long, device=device)
        tokens[:, 0] = self.eos if bos_token is None else bos_token
        scores = torch.zeros(bsz * beam, max_len + 1, device=device)  # cumulative log-probs
        sentence_ids = torch.arange(bsz, device=device)  # the batch index of each live sentence
        ignored = torch.zeros(bsz, beam, dtype=torch.bool, device=device)
        finalized: list[list[Hypothesis]] = [[] for _ in range(bsz)]
        new_order = None
        sentences_left = False  # whether sentences left the batch at the last step

        for step in range(max_len + 1):
            if new_order is not None:
                expanding = rows_per_sentence == 1
                encoder_outs = self.model.reorder(
                    encoder_outs,
                    states,
                    torch.div(new_order, beam, rounding_mode="floor") if expanding else new_order,
                    encoder_too=sentences_left or expanding,
                )
                rows_per_sentence = beam
            prefix = tokens[:: beam // rows_per_sentence, : step + 1]
            lprobs = self.model.next_log_probs(prefix, encoder_outs, states, self.temperature)
            lprobs = self._constrain(lprobs, prefix, step, max_len, prefix_tokens)

            live = lprobs.size(0) // rows_per_sentence
            cand_scores, cand_tokens, cand_beams = self.search.step(
                step,
                lprobs.view(live, rows_per_sentence, -1).expand(live, beam, -1),
                scores.view(live, beam, -1)[:, :, step - 1] if step > 0 else None,
            )
            cand_rows = cand_beams + torch.arange(live, device=device).unsqueeze(1) * beam
            ends = cand_tokens.eq(self.eos) & cand_scores.ne(-math.inf)
            ends[:, :beam] &= ~ignored
            done = self._finalize(
                step,
                cand_rows[:, :beam][ends[:, :beam]],
                cand_scores[:, :beam][ends[:, :beam]],
                tokens,
                scores,
                sentence_ids,
                finalized,
            )
            if step == max_len or bool(done.all()):
                break
            sentences_left = bool(done.any())
            if sentences_left:
                keep = (~done).nonzero().squeeze(1)
                cand_scores, cand_tokens, cand_rows = (
                    cand_scores[keep],
                    cand_tokens[keep],
                    cand_rows[keep],
                )
                ends, ignored, sentence_ids = ends[keep], ignored[keep], sentence_ids[keep]
                if prefix_tokens is not None:
                    prefix_tokens = prefix_tokens[keep]

            # Continue with the first `beam` candidates that do not end (ignored slots count as
            # ended); when too few remain, ended ones fill the beam and are ignored from now on.
            width = cand_tokens.size(1)
            ends[:, :beam] |= ignored
            rank = ends.long() * width + torch.arange(width, device=device)
            rank, active = rank.topk(beam, dim=1, largest=False)
            ignored = rank >= width
            new_order = cand_rows.gather(1, active).view(-1)
            tokens = tokens.index_select(0, new_order)
            tokens[:, step + 1] = cand_tokens.gather(1, active).view(-1)
            scores = scores.index_select(0, new_order)
            scores[:, step] = cand_scores.gather(1, active).view(-1)

        for hyps in finalized:
            hyps.sort(key=lambda hyp: hyp["score"], reverse=True)
            del hyps[self.nbest :]
        return finalized

    def _constrain(
        self,
        lprobs: torch.Tensor,
        prefix: torch.Tensor,
        step: int,
        max_len: int,
        prefix_tokens: torch.Tensor | None,
    ) -> torch.Tensor:
        """Apply the length rules, penalties, forced prefix and n-gram blocking to ``lprobs``
        (in place where it can). NaN log-probabilities are left to the search, which counts
        them as ``-inf``."""
        lprobs[:, self.pad] = -math.inf
        lprobs[:, self.unk] -= self.unk_penalty
        if step >= max_len:
            lprobs[:, : self.eos] = -math.inf
            lprobs[:, self.eos + 1 :] = -math.inf
        if prefix_tokens is not None and step < prefix_tokens.size(1) and step < max_len:
            rows_per_sentence = lprobs.size(0) // prefix_tokens.size(0)
            forced = prefix_tokens[:, step].repeat_interleave(rows_per_sentence).unsqueeze(1)
            only_forced = torch.full_like(lprobs, -math.inf).scatter_(
                1, forced, lprobs.gather(1, forced)
            )
            lprobs = torch.where(forced.ne(self.pad), only_forced, lprobs)
        elif step < self.min_len and step < max_len:  # at max_len, </s> wins over min_len
            lprobs[:, self.eos] = -math.inf
        if self.no_repeat_ngram_size > 0:
            lprobs = block_repeated_ngrams(prefix, lprobs, self.no_repeat_ngram_size)
        return lprobs

    def _finalize(
        self,
        step: int,
        rows: torch.Tensor,
        eos_scores: torch.Tensor,
        tokens: torch.Tensor,
        scores: torch.Tensor,
        sentence_ids: torch.Tensor,
        finalized: list[list[Hypothesis]],
    ) -> torch.Tensor:
        """Record the hypotheses of ``rows`` ended by ``</s>`` at ``step`` (cumulative scores
        ``eos_scores``); return which live sentences now have ``beam`` of them."""
        live = tokens.size(0) // self.beam_size
        done = torch.zeros(live, dtype=torch.bool, device=tokens.device)
        if rows.numel() == 0:
            return done
        hyp_tokens = tokens.index_select(0, rows)[:, 1 : step + 2]
        hyp_tokens[:, step] = self.eos
        cumulative = scores.index_select(0, rows)[:, : step + 1]
        cumulative[:, step] = eos_scores
        positional = cumulative.clone()
        positional[:, 1:] -= cumulative[:, :-1]
        final = eos_scores / (step + 1) ** self.len_penalty if self.normalize_scores else eos_scores
        live_index = (rows // self.beam_size).tolist()
        ids = sentence_ids.tolist()
        for i, (b, score) in enumerate(zip(live_index, final.tolist())):
            hyps = finalized[ids[b]]
            if len(hyps) < self.beam_size:
                hyps.append(
                    {
                        "tokens": hyp_tokens[i],
                        "score": score,
                        "positional_scores": positional[i],
                        "alignment": None,
                    }
                )
        for b in set(live_index):
            if len(finalized[ids[b]]) >= self.beam_size:
                done[b] = True
        return done


def _plain_tensors(hyp: Hypothesis) -> Hypothesis:
    """``hyp`` with each tensor replaced by a copy made outside inference mode (an inference
    tensor refuses in-place changes and autograd outside it); the copies are a hypothesis'
    length each."""
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in hyp.items()}
