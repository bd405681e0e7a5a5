"""Padding waste and speed of ``--max-tokens`` batching (target: under 5% padding).

Lengths are natural (lognormal): a sentence has round(lognormal(mean log 3.0, sigma 0.6))
tokens, within [2, 250] (median 20). Batching is ``batch_by_size`` at ``--max-tokens 4096
--required-batch-size-multiple 8`` over the order training uses. Printed:

- 100,000 sentences ordered by length, ties shuffled (``MonolingualDataset.ordered_indices``):
  the padding fraction of the batch cost ``batch size x longest`` that ``--max-tokens``
  bounds. This is the target figure;
- 100,000 sentence pairs (target length = source length x lognormal(0, 0.15)) in fairseq's
  pair order (by source, then target length): the same figure and the padding of the collated
  source and target matrices. Target padding is higher there: fairseq's order sorts targets only
  within one source length, and batches that straddle two source lengths mix target lengths;
- the same batching in random order, the baseline that length-sorting beats;
- the time of ``batch_by_size`` on 1,000,000 examples, and of building and running an epoch.

Run: ``python bench/bench_data.py`` (a few seconds).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from seqcore.data.batching import batch_by_size, padding_fraction
from seqcore.data.data_utils import numpy_seed
from seqcore.data.iterators import get_batch_iterator
from seqcore.data.language_pair_dataset import LanguagePairDataset

N = 100_000
MAX_TOKENS = 4096
MULTIPLE = 8
TARGET = 0.05


class _Dict:
    def pad(self) -> int:
        return 1

    def eos(self) -> int:
        return 2

    def unk(self) -> int:
        return 3


def lengths(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    src = np.clip(np.round(rng.lognormal(3.0, 0.6, n)), 2, 250).astype(np.int64)
    tgt = np.clip(np.round(src * rng.lognormal(0.0, 0.15, n)), 2, 250).astype(np.int64)
    return src, tgt


def sentences() -> None:
    rng = np.random.default_rng(5)
    sizes = np.clip(np.round(rng.lognormal(3.0, 0.6, N)), 2, 250).astype(np.int64)
    perm = rng.permutation(N)
    order = perm[np.argsort(sizes[perm], kind="mergesort")]
    start = time.perf_counter()
    batches = batch_by_size(order, sizes[order], MAX_TOKENS, None, MULTIPLE)
    took = time.perf_counter() - start
    pad = padding_fraction(batches, sizes)
    print(
        f"{N:,} sentences, --max-tokens {MAX_TOKENS}, multiple {MULTIPLE}: {len(batches):,} batches"
    )
    print(
        f"  padding: {pad:.2%} (target < {TARGET:.0%}: {'OK' if pad < TARGET else 'MISSED'}), "
        f"batch_by_size {took * 1e3:.1f} ms"
    )
    random_batches = batch_by_size(perm, sizes[perm], MAX_TOKENS, None, MULTIPLE)
    print(
        f"  baseline, random order: padding {padding_fraction(random_batches, sizes):.2%} "
        f"in {len(random_batches):,} batches"
    )


def pairs() -> None:
    src, tgt = lengths(N, seed=0)
    # Sizes only: the items are never read, so the dataset holds no tokens.
    ds = LanguagePairDataset([None] * N, src, _Dict(), [None] * N, tgt, _Dict())
    with numpy_seed(1):
        order = ds.ordered_indices()
    ntok = ds.num_tokens_vec(order)
    sizes = np.maximum(src, tgt)

    start = time.perf_counter()
    batches = batch_by_size(order, ntok, MAX_TOKENS, None, MULTIPLE)
    sorted_s = time.perf_counter() - start
    pad = padding_fraction(batches, sizes)
    bsz = np.array([len(b) for b in batches])
    print(f"{N:,} pairs, fairseq's pair order: {len(batches):,} batches")
    print(f"  batch size: mean {bsz.mean():.1f}, min {bsz.min()}, max {bsz.max()}")
    print(f"  padding (batch size x longest, what --max-tokens bounds): {pad:.2%}")
    print(f"  padding of the source matrices: {padding_fraction(batches, src):.2%}")
    print(f"  padding of the target matrices: {padding_fraction(batches, tgt):.2%}")
    fill = (bsz * np.array([sizes[b].max() for b in batches])).mean() / MAX_TOKENS
    print(f"  mean batch cost / --max-tokens: {fill:.1%}")
    print(f"  batch_by_size time: {sorted_s * 1e3:.1f} ms")


def speed() -> None:
    big_src, big_tgt = lengths(1_000_000, seed=3)
    big = np.maximum(big_src, big_tgt)
    big_order = np.lexsort((big_tgt, big_src))
    start = time.perf_counter()
    big_batches = batch_by_size(big_order, big[big_order], MAX_TOKENS, None, MULTIPLE)
    print(
        f"batch_by_size on 1,000,000 examples: {time.perf_counter() - start:.3f} s "
        f"({len(big_batches):,} batches, padding {padding_fraction(big_batches, big):.2%})"
    )

    start = time.perf_counter()
    src = big_src[:20_000]
    tokens = [torch.full((int(n),), 5) for n in src]
    small = LanguagePairDataset(tokens, src, _Dict(), tokens, src, _Dict())
    itr = get_batch_iterator(
        small, max_tokens=MAX_TOKENS, required_batch_size_multiple=MULTIPLE, seed=1
    )
    built = time.perf_counter() - start
    start = time.perf_counter()
    count = sum(1 for _ in itr.next_epoch_itr())
    print(
        f"epoch over 20,000 pairs: iterator built in {built * 1e3:.0f} ms, "
        f"{count} batches collated in {time.perf_counter() - start:.2f} s"
    )


def main() -> None:
    sentences()
    pairs()
    speed()


if __name__ == "__main__":
    main()
