"""Small data helpers (seqcore.data.data_utils): fairseq's batch padding, seeded numpy, the
DATA folder's checks and concatenated datasets, against references written out here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqcore.data.data_utils import (
    ConcatDataset,
    check_data_folder,
    check_token_ids,
    collate_tokens,
    infer_language_pairs,
    numpy_seed,
    split_paths,
)
from seqcore.data.indexed_dataset import MMapIndexedDataset, MMapIndexedDatasetBuilder
from seqcore.errors import DataError

PAD, EOS = 1, 2


def ref_collate(items, left_pad=False, move_eos=False, multiple=1, length=None, eos=EOS):
    """fairseq's collate_tokens in plain lists."""
    size = max([len(x) for x in items] + [length or 0])
    size = -(-size // multiple) * multiple
    rows = []
    for x in items:
        x = list(x)
        if move_eos and x:
            x = [x[-1] if eos is None else eos] + x[:-1]
        padding = [PAD] * (size - len(x))
        rows.append(padding + x if left_pad else x + padding)
    return rows


@pytest.mark.parametrize("left_pad", [False, True])
@pytest.mark.parametrize("move_eos", [False, True])
@pytest.mark.parametrize("multiple, length", [(1, None), (8, None), (1, 9), (4, 6)])
def test_collate_tokens_matches_fairseq_s_padding(left_pad, move_eos, multiple, length):
    items = [[5, 6, 7, EOS], [8, EOS], [9, 10, 11, 12, 13, EOS], []]
    out = collate_tokens([torch.tensor(x, dtype=torch.long) for x in items], PAD, EOS,
                         left_pad=left_pad, move_eos_to_beginning=move_eos,
                         pad_to_multiple=multiple, pad_to_length=length)  # fmt: skip
    assert out.dtype == torch.long
    assert out.tolist() == ref_collate(items, left_pad, move_eos, multiple, length)


def test_collate_tokens_moves_each_item_s_own_last_token_without_an_eos():
    items = [[5, 6, 7], [8, 9]]
    out = collate_tokens([torch.tensor(x) for x in items], PAD, None, move_eos_to_beginning=True)
    assert out.tolist() == ref_collate(items, move_eos=True, eos=None) == [[7, 5, 6], [9, 8, PAD]]
    with pytest.raises(ValueError, match="at least one tensor"):
        collate_tokens([], PAD)


def test_numpy_seed_draws_by_the_seed_and_restores_the_global_state():
    np.random.seed(123)
    expected_after = np.random.rand(3)
    np.random.seed(123)
    with numpy_seed(7):
        inside = np.random.permutation(10)
    assert inside.tolist() == np.random.RandomState(7).permutation(10).tolist()
    assert np.random.rand(3).tolist() == expected_after.tolist()  # as if nothing was drawn
    with numpy_seed(None):  # no seed: the global generator goes on
        np.random.rand()


def test_split_paths_and_language_pairs(tmp_path):
    assert split_paths("a:b::c") == ["a", "b", "c"]
    for name in ["train.de-en.de.idx", "valid.de-en.en.idx", "train.en-fr.fr.idx",
                 "train.de-en.de.bin", "train.idx", "dict.de.txt", "test.x-.x.idx"]:  # fmt: skip
        (tmp_path / name).write_bytes(b"")
    assert infer_language_pairs(str(tmp_path)) == [("de", "en"), ("en", "fr")]
    assert infer_language_pairs(str(tmp_path / "missing")) == []


def test_check_data_folder_says_what_data_is(tmp_path):
    check_data_folder(str(tmp_path))
    with pytest.raises(DataError, match=rf"^data folder {tmp_path / 'nope'} does not exist$"):
        check_data_folder(str(tmp_path / "nope"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder .DATA is the folder seqcore"):
        check_data_folder(str(tmp_path / "file"))


def binarized(tmp_path, items, dtype=np.uint16):
    prefix = tmp_path / "train"
    builder = MMapIndexedDatasetBuilder(f"{prefix}.bin", dtype=dtype)
    for item in items:
        builder.add_item(torch.tensor(item))
    builder.finalize(f"{prefix}.idx")
    return MMapIndexedDataset(prefix), str(prefix)


def test_check_token_ids_names_data_made_with_another_dictionary(tmp_path):
    ds, path = binarized(tmp_path, [[4, 5, 2], [30, 2], [6, 2]])
    check_token_ids(ds, 31, path)  # ids 0..30 fit 31 symbols
    with pytest.raises(DataError) as caught:
        check_token_ids(ds, 30, path)
    assert str(caught.value) == (
        f"{path}: token id 30 is out of range for a dictionary of 30 symbols; the data was "
        "binarized with another dictionary"
    )
    # any dataset (not memory-mapped): its items are read; an id in the middle is found when
    # the sample covers it
    plain = [torch.tensor(x) for x in ([4, 2], [40, 2], [5, 2])]
    with pytest.raises(DataError, match="token id 40"):
        check_token_ids(plain, 30, "plain")
    check_token_ids(plain, 30, "plain", sample=2)  # only the first and last items looked at
    check_token_ids([], 30, "empty")


def test_concat_dataset_repeats_each_part_by_its_ratio():
    class Part:
        def __init__(self, items):
            self.items, self.sizes = items, np.array([len(x) for x in items])

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    a, b = Part(["a0", "a11"]), Part(["b000"])
    both = ConcatDataset([a, b], sample_ratios=[2, 3])
    expected = ["a0", "a11", "a0", "a11", "b000", "b000", "b000"]
    assert [both[i] for i in range(len(both))] == expected
    assert both.sizes.tolist() == [len(x) for x in expected]
    with pytest.raises(ValueError, match="one integer >= 1 per dataset"):
        ConcatDataset([a, b], sample_ratios=[1, 0])
