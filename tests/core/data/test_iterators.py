"""EpochBatchIterator / get_batch_iterator: shuffling, sharding, resuming, workers, filtering."""

import logging
import math

import numpy as np
import pytest
import torch

from seqcore.data.dictionary import Dictionary
from seqcore.data.iterators import EpochBatchIterator, get_batch_iterator
from seqcore.data.language_pair_dataset import LanguagePairDataset
from seqcore.errors import DataError

EOS = 2


def make_dataset(n=240, seed=0, max_len=20):
    rng = np.random.default_rng(seed)
    d = Dictionary()
    for i in range(30):
        d.add_symbol(f"w{i}")
    src_lens = rng.integers(2, max_len, size=n)
    tgt_lens = rng.integers(2, max_len, size=n)

    def sent(n):
        return torch.tensor(rng.integers(4, 34, size=n - 1).tolist() + [EOS])

    src = [sent(k) for k in src_lens]
    tgt = [sent(k) for k in tgt_lens]
    return LanguagePairDataset(src, src_lens, d, tgt, tgt_lens, d)


def ids_of(batches):
    return [b["id"].tolist() if b else [] for b in batches]


def test_epoch_order_is_deterministic_and_changes_per_epoch():
    ds = make_dataset()
    a = get_batch_iterator(ds, max_tokens=120, seed=5)
    b = get_batch_iterator(ds, max_tokens=120, seed=5)
    e1a, e1b = ids_of(a.next_epoch_itr()), ids_of(b.next_epoch_itr())
    assert e1a == e1b
    assert a.epoch == 1
    e2a = ids_of(a.next_epoch_itr())
    assert a.epoch == 2
    assert e2a != e1a
    assert sorted(map(tuple, e2a)) == sorted(map(tuple, e1a))  # same batches, new order
    c = get_batch_iterator(ds, max_tokens=120, seed=6)
    assert ids_of(c.next_epoch_itr()) != e1a
    # Each epoch's order is np.random.RandomState(seed + epoch) shuffling the fixed batches.
    frozen = [b.tolist() for b in a.frozen_batches]
    order = list(range(len(frozen)))
    np.random.RandomState(5 + 2).shuffle(order)
    assert [sorted(x) for x in e2a] == [sorted(frozen[i]) for i in order]


def test_no_shuffle_keeps_length_order():
    ds = make_dataset()
    itr = get_batch_iterator(ds, max_tokens=120)
    batches = ids_of(itr.next_epoch_itr(shuffle=False))
    assert [sorted(b) for b in batches] == [sorted(b.tolist()) for b in itr.frozen_batches]
    assert itr.state_dict()["shuffle"] is False or itr.end_of_epoch()


def test_every_example_once_and_max_tokens_respected():
    ds = make_dataset()
    itr = get_batch_iterator(ds, max_tokens=100, required_batch_size_multiple=4)
    seen = []
    for batch in itr.next_epoch_itr():
        bsz, width = batch["net_input"]["src_tokens"].shape
        assert bsz * max(width, batch["target"].shape[1]) <= 100
        seen += batch["id"].tolist()
    assert sorted(seen) == list(range(len(ds)))


@pytest.mark.parametrize("num_shards", [2, 3, 7])
def test_sharding_equal_lengths_disjoint_cover(num_shards):
    ds = make_dataset()
    nbatches = len(get_batch_iterator(ds, max_tokens=150).frozen_batches)
    per_rank = []
    for rank in range(num_shards):
        itr = get_batch_iterator(ds, max_tokens=150, num_shards=num_shards, shard_id=rank, seed=3)
        assert len(itr) == math.ceil(nbatches / num_shards)
        per_rank.append(list(itr.next_epoch_itr()))
    lengths = {len(batches) for batches in per_rank}
    assert lengths == {math.ceil(nbatches / num_shards)}
    all_ids = [i for batches in per_rank for b in batches if b for i in b["id"].tolist()]
    assert sorted(all_ids) == list(range(len(ds)))  # disjoint and complete
    empty = sum(1 for batches in per_rank for b in batches if b == {})
    assert empty == num_shards * math.ceil(nbatches / num_shards) - nbatches
    for batches in per_rank:  # dummy (empty) batches only at the end of a rank's epoch
        flags = [b == {} for b in batches]
        assert flags == sorted(flags)


def test_resume_mid_epoch_yields_exactly_the_rest():
    ds = make_dataset()
    full = get_batch_iterator(ds, max_tokens=120, seed=2)
    list(full.next_epoch_itr())  # epoch 1
    epoch2 = ids_of(full.next_epoch_itr())

    itr = get_batch_iterator(ds, max_tokens=120, seed=2)
    list(itr.next_epoch_itr())
    it = itr.next_epoch_itr()
    head = [next(it)["id"].tolist() for _ in range(5)]
    state = itr.state_dict()
    assert state == {"epoch": 2, "iterations_in_epoch": 5, "shuffle": True}

    resumed = get_batch_iterator(ds, max_tokens=120, seed=2)
    resumed.load_state_dict(state)
    assert resumed.iterations_in_epoch == 5
    rest_itr = resumed.next_epoch_itr()
    assert resumed.epoch == 2 and rest_itr.n == 5
    rest = ids_of(rest_itr)
    assert head + rest == epoch2
    assert resumed.end_of_epoch()
    assert resumed.state_dict() == {"epoch": 3, "iterations_in_epoch": 0, "shuffle": True}
    # After the resumed epoch, the next one is a fresh epoch 3 (same as uninterrupted).
    assert ids_of(resumed.next_epoch_itr()) == ids_of(full.next_epoch_itr())


def test_resume_past_the_end_is_an_error():
    ds = make_dataset()
    itr = get_batch_iterator(ds, max_tokens=120)
    with pytest.raises(DataError, match="cannot resume epoch 1 after batch 10000"):
        itr.load_state_dict({"epoch": 1, "iterations_in_epoch": 10000, "shuffle": True})


def same_batches(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        assert torch.equal(x["id"], y["id"]) and torch.equal(x["target"], y["target"])
        for k in x["net_input"]:
            assert torch.equal(x["net_input"][k], y["net_input"][k])


def test_workers_and_buffer_give_the_same_batches():
    ds = make_dataset(n=120)
    base = list(get_batch_iterator(ds, max_tokens=120, seed=4).next_epoch_itr())
    workers = list(get_batch_iterator(ds, max_tokens=120, seed=4, num_workers=2).next_epoch_itr())
    same_batches(base, workers)
    buffered = get_batch_iterator(ds, max_tokens=120, seed=4, buffer_size=3).next_epoch_itr()
    same_batches(base, list(buffered))


def test_workers_resume():
    ds = make_dataset(n=120)
    base = list(get_batch_iterator(ds, max_tokens=120, seed=4).next_epoch_itr())
    itr = get_batch_iterator(ds, max_tokens=120, seed=4, num_workers=2)
    itr.load_state_dict({"epoch": 1, "iterations_in_epoch": 3, "shuffle": True})
    same_batches(base[3:], list(itr.next_epoch_itr()))


def test_filtering_counts_and_messages(caplog):
    ds = make_dataset(max_len=30)
    too_long = int(((ds.src_sizes > 20) | (ds.tgt_sizes > 25)).sum())
    assert too_long > 0
    with pytest.raises(DataError) as e:
        get_batch_iterator(ds, max_tokens=200, max_positions=(20, 25))
    msg = str(e.value)
    assert msg.startswith("example ") and "max positions (20, 25)" in msg and "\n" not in msg
    bad = int(msg.split()[1])
    assert ds.src_sizes[bad] > 20 or ds.tgt_sizes[bad] > 25

    with caplog.at_level(logging.WARNING):
        itr = get_batch_iterator(
            ds, max_tokens=200, max_positions=(20, 25), ignore_invalid_inputs=True
        )
    assert itr.num_skipped == too_long
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"{too_long} examples" in warnings[0]
    seen = [i for b in itr.next_epoch_itr() for i in b["id"].tolist()]
    assert len(seen) == len(ds) - too_long
    assert all(ds.src_sizes[i] <= 20 and ds.tgt_sizes[i] <= 25 for i in seen)


def test_example_longer_than_max_tokens():
    ds = make_dataset()
    with pytest.raises(DataError) as e:
        get_batch_iterator(ds, max_tokens=10)
    words = str(e.value).split()
    example, size = int(words[1]), int(words[3])
    assert words[0] == "example" and "more than --max-tokens 10;" in str(e.value)
    assert size == ds.num_tokens(example) and size > 10


def test_max_sentences_and_multiple():
    ds = make_dataset()
    itr = get_batch_iterator(ds, max_sentences=16, required_batch_size_multiple=8)
    sizes = [len(b) for b in itr.frozen_batches]
    assert all(s <= 16 for s in sizes) and sum(sizes) == len(ds)
    assert all(s % 8 == 0 for s in sizes[:-1])


def test_plain_iterator_len_and_counting():
    batches = [[0, 1], [2], [3, 4, 5]]
    itr = EpochBatchIterator(list(range(6)), lambda items: items, batches, num_shards=2, shard_id=1)
    assert len(itr) == 2
    epoch = itr.next_epoch_itr(shuffle=False)
    assert len(epoch) == 2 and epoch.n == 0
    assert next(epoch) == [2]
    assert epoch.n == 1 and itr.iterations_in_epoch == 1 and not itr.end_of_epoch()
    assert next(epoch) == []  # the padding batch of the short rank
    assert itr.end_of_epoch()
