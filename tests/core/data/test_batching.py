"""batch_by_size against a list-based reference of fairseq's batching rules."""

import numpy as np
import pytest

from seqcore.data.batching import batch_by_size, padding_fraction
from seqcore.errors import DataError


def reference_batches(indices, sizes, max_tokens, max_sentences, mult):
    """fairseq's rules, one example at a time, written with plain lists.

    Grow a batch; when the next example would overflow it, emit the batch cut to a multiple of
    ``mult`` (whole if smaller than ``mult``) and carry the rest over; if the carried-over rest
    cannot take the example either, emit the rest as its own batch.
    """
    max_tokens = max_tokens or 0
    max_sentences = max_sentences or 0

    def overflows(batch):
        too_many = max_sentences > 0 and len(batch) > max_sentences
        too_big = max_tokens > 0 and len(batch) * max(t for _, t in batch) > max_tokens
        return too_many or too_big

    def cut(batch):
        return len(batch) if len(batch) < mult else mult * (len(batch) // mult)

    out, batch = [], []
    for item in zip(indices, sizes):
        if batch and overflows(batch + [item]):
            k = cut(batch)
            out.append(batch[:k])
            batch = batch[k:]
            if batch and overflows(batch + [item]):
                out.append(batch)
                batch = []
        batch.append(item)
    if batch:
        k = cut(batch)
        out.append(batch[:k])
        if batch[k:]:
            out.append(batch[k:])
    return [[i for i, _ in b] for b in out]


CASES = [
    # (max_tokens, max_sentences, mult)
    (64, None, 1),
    (64, None, 8),
    (100, None, 3),
    (None, 5, 1),
    (None, 10, 8),
    (200, 7, 4),
    (37, 4, 8),
    (300, None, 16),
]


@pytest.mark.parametrize("method", ["numpy", "loop"])
@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_matches_reference(case, sort, method):
    max_tokens, max_sentences, mult = case
    rng = np.random.default_rng(hash(case) % 1000)
    n = 500
    sizes = rng.integers(1, 30, size=n)
    indices = np.argsort(sizes, kind="stable") if sort else rng.permutation(n)
    ntok = sizes[indices]
    got = batch_by_size(indices, ntok, max_tokens, max_sentences, mult, _method=method)
    want = reference_batches(indices.tolist(), ntok.tolist(), max_tokens, max_sentences, mult)
    assert [b.tolist() for b in got] == want
    # The rules' guarantees, checked directly too.
    assert np.concatenate(got).tolist() == indices.tolist()
    for b in got:
        assert len(b) > 0
        if max_tokens:
            assert len(b) * sizes[b].max() <= max_tokens
        if max_sentences:
            assert len(b) <= max_sentences
        assert b.dtype == np.int64


def test_batch_sizes_are_multiples_when_lengths_are_equal():
    # All examples of 10 tokens, max_tokens 250: 25 fit; rounded down to 24 with a multiple of 8.
    sizes = np.full(100, 10)
    got = batch_by_size(np.arange(100), sizes, max_tokens=250, required_batch_size_multiple=8)
    assert [len(b) for b in got] == [24, 24, 24, 24, 4]
    got = batch_by_size(np.arange(100), sizes, max_tokens=250, required_batch_size_multiple=1)
    assert [len(b) for b in got] == [25, 25, 25, 25]


def test_padding_counts_toward_max_tokens():
    # 3 + 3 fits in 6 only if padding is ignored; with padding [3, 1, 3] costs 9.
    got = batch_by_size(np.arange(3), [1, 1, 3], max_tokens=6)
    assert [b.tolist() for b in got] == [[0, 1], [2]]


def test_unbounded_single_batch_and_empty_input():
    got = batch_by_size(np.arange(10), np.ones(10), required_batch_size_multiple=4)
    assert [len(b) for b in got] == [8, 2]
    assert batch_by_size([], [], max_tokens=10) == []


def test_too_long_example_names_it():
    sizes = np.array([5, 300, 7])
    with pytest.raises(DataError) as e:
        batch_by_size(np.array([3, 17, 4]), sizes, max_tokens=256)
    msg = str(e.value)
    assert "example 17 has 300 tokens" in msg and "--max-tokens 256" in msg
    assert "\n" not in msg


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        batch_by_size(np.arange(3), [1, 2], max_tokens=10)


def test_padding_fraction_formula():
    sizes = np.array([2, 4, 3, 3])
    batches = [np.array([0, 1]), np.array([2, 3]), np.array([], dtype=np.int64)]
    # slots: 2*4 + 2*3 = 14, real tokens 12
    assert padding_fraction(batches, sizes) == pytest.approx(1 - 12 / 14)
