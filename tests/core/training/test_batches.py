"""How the loop takes its batches (seqcore.training.batches): --update-freq groups and the
tighter of the task's and the model's position limits."""

from __future__ import annotations

import pytest

from seqcore.training.batches import grouped, min_positions


@pytest.mark.parametrize("n, size", [(0, 2), (5, 1), (5, 2), (6, 3), (2, 4)])
def test_grouped_takes_update_freq_batches_at_a_time(n, size):
    groups = list(grouped(iter(range(n)), size))
    assert [x for g in groups for x in g] == list(range(n))
    assert all(len(g) == size for g in groups[:-1]) and all(0 < len(g) <= size for g in groups)
    assert len(groups) == -(-n // size)


def test_grouped_reads_lazily():
    taken = []

    def batches():
        for i in range(10):
            taken.append(i)
            yield i

    first = next(grouped(batches(), 3))
    assert first == [0, 1, 2] and taken == [0, 1, 2]


def test_min_positions_is_the_tighter_limit_per_side():
    assert min_positions(None, None) is None
    assert min_positions(1024, None, 512) == 512
    assert min_positions((1024, 1024), (256, 2048)) == (256, 1024)
    assert min_positions((None, 1024), (256, None)) == (256, 1024)
