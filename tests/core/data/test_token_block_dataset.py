"""TokenBlockDataset / MonolingualDataset against loop-by-loop references of the break modes."""

import numpy as np
import pytest
import torch

from seqcore.data.data_utils import numpy_seed
from seqcore.data.dictionary import Dictionary
from seqcore.data.token_block_dataset import MonolingualDataset, TokenBlockDataset, block_slices

PAD, EOS = 1, 2


def reference_slices(sizes, block_size, mode, sep_len=1):
    """The break modes, sentence by sentence."""
    sizes = list(sizes)
    total = sum(sizes)
    if mode == "none":
        return [(s, min(s + block_size, total)) for s in range(0, total, block_size)]
    if mode == "eos":
        out, pos = [], 0
        for n in sizes:
            out.append((pos, pos + n))
            pos += n
        return out
    out, tok, cur, i = [], 0, 0, 0
    doc = mode == "complete_doc"
    while i < len(sizes):
        is_sep = doc and sizes[i] == sep_len
        if (cur + sizes[i] <= block_size or cur == 0) and not is_sep:
            cur += sizes[i]
            i += 1
        else:
            if cur > (1 if doc else 0):
                out.append((tok, tok + cur))
            tok += cur
            cur = 0
            if is_sep:
                tok += sizes[i]
                i += 1
    if cur > (1 if doc else 0):
        out.append((tok, tok + cur))
    return out


def make_sentences(sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        words = rng.integers(4, 30, size=max(n - 1, 0)).tolist()
        out.append(torch.tensor((words + [EOS])[:n], dtype=torch.long))
    return out


SIZE_SETS = [
    [5, 3, 8, 1, 4, 12, 2, 1, 1, 6, 7],
    [1, 1, 4, 1, 9, 3, 1, 2, 2, 2, 1],
    [20, 2, 3, 30, 1, 5],
    [0, 3, 0, 0, 4, 15, 0, 2, 0],
]


@pytest.mark.parametrize("mode", ["none", "complete", "complete_doc", "eos"])
@pytest.mark.parametrize("block_size", [1, 4, 7, 16])
@pytest.mark.parametrize("sizes", SIZE_SETS)
def test_slices_match_reference(sizes, block_size, mode):
    got = block_slices(np.array(sizes), block_size, mode)
    assert [tuple(r) for r in got.tolist()] == reference_slices(sizes, block_size, mode)


def test_slices_random_against_reference():
    rng = np.random.default_rng(1)
    for trial in range(30):
        sizes = rng.integers(0, 12, size=int(rng.integers(1, 80))).tolist()
        for mode in ("complete", "complete_doc"):
            block = int(rng.integers(1, 25))
            got = block_slices(np.array(sizes), block, mode)
            assert [tuple(r) for r in got.tolist()] == reference_slices(sizes, block, mode), (
                trial,
                mode,
            )


@pytest.mark.parametrize("mode", ["none", "complete", "complete_doc", "eos"])
def test_items_are_stream_slices_with_shifted_source(mode):
    sizes = [5, 3, 8, 1, 4, 12, 2, 1, 6, 7]
    sents = make_sentences(sizes)
    stream = torch.cat(sents).tolist()
    ds = TokenBlockDataset(sents, sizes, 6, pad=PAD, eos=EOS, break_mode=mode)
    want = reference_slices(sizes, 6, mode)
    assert len(ds) == len(want)
    assert ds.sizes.tolist() == [e - s for s, e in want]
    for i, (s, e) in enumerate(want):
        source, target = ds[i]
        assert target.tolist() == stream[s:e]
        # The token before each target position: the stream's previous token (</s> at the start).
        assert source.tolist() == ([EOS] + stream)[s:e]
    plain = TokenBlockDataset(
        sents, sizes, 6, pad=PAD, eos=EOS, break_mode=mode, include_targets=False
    )
    assert plain[0].tolist() == stream[want[0][0] : want[0][1]]


def test_many_sentences_are_fast_enough():
    rng = np.random.default_rng(2)
    sizes = rng.integers(1, 60, size=300_000)
    for mode in ("none", "complete", "eos"):
        slices = block_slices(sizes, 512, mode)
        assert slices[-1, 1] == sizes.sum()
        assert (slices[1:, 0] == slices[:-1, 1]).all()  # contiguous: no token left out


def make_dict(n=40):
    d = Dictionary()
    for i in range(n):
        d.add_symbol(f"w{i}")
    return d


def test_monolingual_batches():
    sizes = [5, 3, 8, 4, 6]
    sents = make_sentences(sizes)
    stream = torch.cat(sents).tolist()
    blocks = TokenBlockDataset(sents, sizes, 7, pad=PAD, eos=EOS, break_mode="none")
    d = make_dict()
    ds = MonolingualDataset(blocks, blocks.sizes, d, shuffle=False)
    samples = [ds[i] for i in range(len(ds))]
    batch = ds.collater(samples)
    n = len(ds)
    lens = [min(7, len(stream) - 7 * i) for i in range(n)]
    src = [[EOS] + stream[: 7 - 1]] + [stream[7 * i - 1 : 7 * i - 1 + lens[i]] for i in range(1, n)]
    tgt = [stream[7 * i : 7 * i + lens[i]] for i in range(n)]
    pad_to = max(lens)
    assert batch["net_input"]["src_tokens"].tolist() == [r + [PAD] * (pad_to - len(r)) for r in src]
    assert batch["target"].tolist() == [r + [PAD] * (pad_to - len(r)) for r in tgt]
    assert batch["net_input"]["src_lengths"].tolist() == lens
    assert batch["ntokens"] == sum(lens) and batch["nsentences"] == n
    assert batch["id"].tolist() == list(range(n))
    assert set(batch["net_input"]) == {"src_tokens", "src_lengths"}
    assert ds.collater([]) == {}


def test_monolingual_bos_and_output_vocab():
    sents = [torch.tensor([30, 5, 41, EOS])]
    blocks = TokenBlockDataset(sents, [4], 8, pad=PAD, eos=EOS, break_mode="eos")
    d = make_dict(40)  # 44 symbols

    class Small:  # an output vocabulary of the first 32 symbols
        def __len__(self):
            return 32

        def unk(self):
            return 3

        def bos(self):
            return 0

    ds = MonolingualDataset(blocks, blocks.sizes, d, Small(), add_bos_token=True)
    item = ds[0]
    assert item["source"].tolist() == [0, EOS, 30, 5, 41]
    assert item["target"].tolist() == [0, 30, 5, 3, EOS]


def test_monolingual_order_and_filter():
    sizes = [5, 3, 8, 4, 6, 3]
    sents = make_sentences(sizes)
    blocks = TokenBlockDataset(sents, sizes, None, pad=PAD, eos=EOS, break_mode="eos")
    ds = MonolingualDataset(blocks, blocks.sizes, make_dict(), shuffle=True)
    with numpy_seed(1):
        order = ds.ordered_indices()
    assert [sizes[i] for i in order] == sorted(sizes)
    kept, ignored = ds.filter_indices_by_size(order, 5)
    assert sorted(ignored) == [2, 4] and all(sizes[i] <= 5 for i in kept)
    assert ds.num_tokens_vec(np.array([2, 1])).tolist() == [8, 3]
