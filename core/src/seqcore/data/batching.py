"""Group examples into batches bounded by ``--max-tokens`` / ``--batch-size`` (fairseq's rules).

The rules, applied to ``indices`` in order (usually sorted by length):

- a batch's cost is ``len(batch) * max(num_tokens in batch)``: padding counts, since every row is
  padded to the longest one; it must not exceed ``max_tokens``, and ``len(batch)`` must not
  exceed ``max_sentences`` (``None`` or ``<= 0``: no bound);
- batches grow greedily. When the next example would overflow a batch, the batch is cut to the
  largest size that is a multiple of ``required_batch_size_multiple`` (or kept whole when it is
  smaller than the multiple); the examples cut off start the next batch. The examples left at
  the very end form a last batch of the same multiple-rounded size, plus a smaller one with the
  rest.

This is exactly what fairseq's ``batch_by_size`` computes (its cythonised vectorised variant,
which also never lets the carried-over examples overflow). Here each batch is found with a few
numpy operations over a window of candidates, so the cost is a handful of numpy calls per batch
rather than Python work per example; when batches are tiny a plain loop is faster and is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqcore.errors import DataError

# Below this many examples per batch (expected) the per-batch numpy calls cost more than a loop.
_SMALL_BATCH = 64


def batch_by_size(
    indices: Sequence[int] | np.ndarray,
    num_tokens_vec: Sequence[int] | np.ndarray,
    max_tokens: int | None = None,
    max_sentences: int | None = None,
    required_batch_size_multiple: int = 1,
    *,
    _method: str = "auto",
) -> list[np.ndarray]:
    """Split ``indices`` into batches (int64 arrays of dataset indices), in order.

    ``num_tokens_vec[k]`` is the number of tokens of example ``indices[k]`` (for a language pair,
    the longer of its source and target). An example longer than ``max_tokens`` is a
    :class:`~seqcore.errors.DataError` naming it.
    """
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    ntok = np.asarray(num_tokens_vec, dtype=np.int64).reshape(-1)
    if idx.shape[0] != ntok.shape[0]:
        raise ValueError(
            f"num_tokens_vec has {ntok.shape[0]} entries for {idx.shape[0]} indices "
            "(it must give the size of each index, in the same order)"
        )
    max_tokens = int(max_tokens) if max_tokens is not None and max_tokens > 0 else 0
    max_sentences = int(max_sentences) if max_sentences is not None and max_sentences > 0 else 0
    mult = int(required_batch_size_multiple)
    if mult < 1:
        raise ValueError(f"required_batch_size_multiple must be >= 1, got {mult}")
    n = idx.shape[0]
    if n == 0:
        return []
    if max_tokens > 0:
        too_long = np.flatnonzero(ntok > max_tokens)
        if too_long.size:
            k = int(too_long[0])
            raise DataError(
                f"example {int(idx[k])} has {int(ntok[k])} tokens, more than --max-tokens "
                f"{max_tokens}; raise --max-tokens or filter with "
                "--max-source-positions/--max-target-positions"
            )

    method = _method
    if method == "auto":
        method = (
            "numpy"
            if _expected_batch_size(ntok, max_tokens, max_sentences) >= _SMALL_BATCH
            else "loop"
        )
    find = _batch_ends_numpy if method == "numpy" else _batch_ends_loop
    ends = find(ntok, max_tokens, max_sentences, mult)
    return np.split(idx, ends[:-1])


def _expected_batch_size(ntok: np.ndarray, max_tokens: int, max_sentences: int) -> float:
    by_tokens = max_tokens / max(float(np.median(ntok)), 1.0) if max_tokens > 0 else np.inf
    by_sentences = max_sentences if max_sentences > 0 else np.inf
    return min(by_tokens, by_sentences, float(len(ntok)))


def _round_to_multiple(size: int, mult: int) -> int:
    """The largest allowed batch size not above ``size``: a multiple of ``mult`` or < ``mult``."""
    return size if size < mult else size - size % mult


def _batch_ends_numpy(
    ntok: np.ndarray, max_tokens: int, max_sentences: int, mult: int
) -> list[int]:
    """End positions of the batches; each batch found by one vectorised scan of a window."""
    n = ntok.shape[0]
    ends: list[int] = []
    counts = np.arange(1, 1025, dtype=np.int64)  # 1, 2, 3, ...: batch sizes, grown on demand
    start = 0
    window = 64
    while start < n:
        # ``fits``: how many examples from ``start`` on fit in one batch (``None``: all the rest).
        while True:
            stop = min(start + window, n)
            seg = ntok[start:stop]
            if counts.shape[0] < seg.shape[0]:
                counts = np.arange(1, 2 * seg.shape[0] + 1, dtype=np.int64)
            cost = np.maximum.accumulate(seg) * counts[: stop - start]
            over = cost > max_tokens if max_tokens > 0 else np.zeros(seg.shape, dtype=bool)
            if max_sentences > 0 and max_sentences < stop - start:
                over[max_sentences:] = True
            first = int(over.argmax()) if over.any() else -1
            if first >= 0 or stop == n:
                break
            window *= 2
        if first < 0:
            size = _round_to_multiple(n - start, mult)
            ends.append(start + size)
            if start + size < n:
                ends.append(n)
            break
        size = _round_to_multiple(first, mult)
        ends.append(start + size)
        start += size
        window = max(64, 2 * first + 2)
    return ends


def _batch_ends_loop(ntok: np.ndarray, max_tokens: int, max_sentences: int, mult: int) -> list[int]:
    """The same batches as :func:`_batch_ends_numpy`, one example at a time."""
    sizes = ntok.tolist()
    n = len(sizes)
    limit_tokens = max_tokens if max_tokens > 0 else float("inf")
    limit_sentences = max_sentences if max_sentences > 0 else n
    ends: list[int] = []
    start = 0
    while start < n:
        longest = 0
        j = start
        while j < n:
            t = sizes[j]
            if t > longest:
                longest = t
            count = j - start + 1
            if count > limit_sentences or count * longest > limit_tokens:
                break
            j += 1
        if j == n:
            size = _round_to_multiple(n - start, mult)
            ends.append(start + size)
            if start + size < n:
                ends.append(n)
            break
        size = _round_to_multiple(j - start, mult)
        ends.append(start + size)
        start += size
    return ends


def padding_fraction(batches: Sequence[np.ndarray], sizes: np.ndarray) -> float:
    """Share of the ``sum(len(b) * max(sizes[b]))`` token slots of ``batches`` that is padding."""
    sizes = np.asarray(sizes)
    slots = 0
    real = 0
    for b in batches:
        if len(b) == 0:
            continue
        s = sizes[b]
        slots += len(b) * int(s.max())
        real += int(s.sum())
    return 1.0 - real / slots if slots else 0.0
