"""LanguagePairDataset: items, fairseq's batch layout, ordering and size filtering."""

import numpy as np
import pytest
import torch

from seqcore.data.data_utils import collate_tokens, numpy_seed
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDataset, MMapIndexedDatasetBuilder
from seqcore.data.language_pair_dataset import LanguagePairDataset

PAD, EOS = 1, 2


def make_dict(n=20):
    d = Dictionary()
    for i in range(n):
        d.add_symbol(f"w{i}")
    return d


def sentences(lengths, offset=4):
    # Each sentence: distinct word ids, then </s>.
    out = []
    for k, n in enumerate(lengths):
        words = [offset + (k + j) % 15 for j in range(n - 1)]
        out.append(torch.tensor(words + [EOS], dtype=torch.long))
    return out


def make_pair(src_lens, tgt_lens, **kw):
    d = make_dict()
    src, tgt = sentences(src_lens), sentences(tgt_lens, offset=5)
    ds = LanguagePairDataset(src, np.array(src_lens), d, tgt, np.array(tgt_lens), d, **kw)
    return ds, src, tgt


def test_item():
    ds, src, tgt = make_pair([3, 5], [4, 2])
    item = ds[1]
    assert item["id"] == 1
    assert torch.equal(item["source"], src[1]) and torch.equal(item["target"], tgt[1])
    assert len(ds) == 2


def expected_rows(seqs, width, left, shift=False):
    rows = []
    for s in seqs:
        s = s.tolist()
        if shift:  # </s> moved to the front: [a, b, </s>] -> [</s>, a, b]
            s = [EOS] + s[:-1]
        pad = [PAD] * (width - len(s))
        rows.append(pad + s if left else s + pad)
    return torch.tensor(rows)


@pytest.mark.parametrize("left_pad_source,left_pad_target", [(True, False), (False, True)])
def test_collater_layout(left_pad_source, left_pad_target):
    src_lens, tgt_lens = [3, 6, 4, 6], [5, 2, 7, 3]
    ds, src, tgt = make_pair(
        src_lens, tgt_lens, left_pad_source=left_pad_source, left_pad_target=left_pad_target
    )
    batch = ds.collater([ds[i] for i in range(4)])
    # Rows sorted by source length, longest first; ties keep their order (1 before 3).
    order = [1, 3, 2, 0]
    assert batch["id"].tolist() == order
    assert batch["nsentences"] == 4
    assert batch["ntokens"] == sum(tgt_lens)
    net = batch["net_input"]
    assert net["src_lengths"].tolist() == [src_lens[i] for i in order]
    assert torch.equal(
        net["src_tokens"], expected_rows([src[i] for i in order], 6, left_pad_source)
    )
    assert torch.equal(batch["target"], expected_rows([tgt[i] for i in order], 7, left_pad_target))
    assert torch.equal(
        net["prev_output_tokens"],
        expected_rows([tgt[i] for i in order], 7, left_pad_target, shift=True),
    )


def test_collater_without_target_and_empty():
    d = make_dict()
    src = sentences([2, 4])
    ds = LanguagePairDataset(src, [2, 4], d)
    batch = ds.collater([ds[0], ds[1]])
    assert batch["target"] is None
    assert "prev_output_tokens" not in batch["net_input"]
    assert batch["ntokens"] == 6
    assert ds.collater([]) == {}


def test_collate_tokens_pad_to_multiple():
    out = collate_tokens([torch.tensor([7, 8, 2])], PAD, EOS, pad_to_multiple=8)
    assert out.tolist() == [[7, 8, 2] + [PAD] * 5]


def test_sizes_and_num_tokens():
    ds, _, _ = make_pair([3, 9, 4], [5, 2, 4])
    assert [ds.num_tokens(i) for i in range(3)] == [5, 9, 4]
    assert ds.num_tokens_vec(np.array([2, 0])).tolist() == [4, 5]
    assert ds.size(1) == (9, 2)
    assert ds.sizes.tolist() == [[3, 5], [9, 2], [4, 4]]


def test_ordered_indices_sort_by_source_then_target():
    rng = np.random.default_rng(0)
    src_lens = rng.integers(2, 6, size=60)
    tgt_lens = rng.integers(2, 6, size=60)
    ds, _, _ = make_pair(src_lens.tolist(), tgt_lens.tolist(), shuffle=False)
    # Without shuffling: source length, then target length, then index.
    want = sorted(range(60), key=lambda i: (src_lens[i], tgt_lens[i], i))
    assert ds.ordered_indices().tolist() == want

    ds.shuffle = True
    with numpy_seed(3):
        a = ds.ordered_indices()
    with numpy_seed(3):
        b = ds.ordered_indices()
    with numpy_seed(4):
        c = ds.ordered_indices()
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    keys = [(src_lens[i], tgt_lens[i]) for i in a]
    assert keys == sorted(keys) and sorted(a.tolist()) == list(range(60))


def test_filter_indices_by_size():
    ds, _, _ = make_pair([3, 9, 4, 2], [5, 2, 8, 2])
    idx = np.arange(4)
    kept, ignored = ds.filter_indices_by_size(idx, (5, 6))
    assert kept.tolist() == [0, 3] and ignored == [1, 2]
    kept, ignored = ds.filter_indices_by_size(idx, 8)
    assert kept.tolist() == [0, 2, 3] and ignored == [1]
    kept, ignored = ds.filter_indices_by_size(idx, (None, 4))
    assert kept.tolist() == [1, 3] and ignored == [0, 2]
    kept, ignored = ds.filter_indices_by_size(idx, None)
    assert kept.tolist() == [0, 1, 2, 3] and ignored == []


def test_reads_mmap_indexed_datasets(tmp_path):
    src_items, tgt_items = sentences([3, 5, 2]), sentences([4, 4, 6], offset=6)
    prefixes = []
    for name, items in (("src", src_items), ("tgt", tgt_items)):
        prefix = str(tmp_path / name)
        builder = MMapIndexedDatasetBuilder(prefix + ".bin", dtype=np.uint16)
        for item in items:
            builder.add_item(item)
        builder.finalize(prefix + ".idx")
        prefixes.append(prefix)
    src, tgt = (MMapIndexedDataset(p) for p in prefixes)
    d = make_dict()
    ds = LanguagePairDataset(src, src.sizes, d, tgt, tgt.sizes, d)
    batch = ds.collater([ds[i] for i in range(3)])
    order = [1, 0, 2]
    assert batch["id"].tolist() == order
    assert torch.equal(batch["target"], expected_rows([tgt_items[i] for i in order], 6, False))
    assert torch.equal(
        batch["net_input"]["src_tokens"], expected_rows([src_items[i] for i in order], 5, True)
    )
