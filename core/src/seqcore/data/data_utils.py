"""Small data helpers shared by datasets and tasks: padding a batch, seeded numpy, sanity checks.

``collate_tokens`` builds the padded ``B x T`` matrices of a batch exactly as fairseq does (same
padding sides, same ``move_eos_to_beginning`` shift that turns a target into the decoder's
``prev_output_tokens``), so that models ported from fairseq see identical inputs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from seqcore.errors import DataError


def collate_tokens(
    values: Sequence[torch.Tensor],
    pad_idx: int,
    eos_idx: int | None = None,
    left_pad: bool = False,
    move_eos_to_beginning: bool = False,
    pad_to_multiple: int = 1,
    pad_to_length: int | None = None,
) -> torch.Tensor:
    """Stack 1-D token tensors into a ``len(values) x T`` matrix filled with ``pad_idx``.

    ``T`` is the longest item (at least ``pad_to_length``), rounded up to ``pad_to_multiple``.
    ``left_pad`` puts the padding before the tokens. ``move_eos_to_beginning`` shifts every item
    right by one and puts ``eos_idx`` first (the item's own last token when ``eos_idx`` is None):
    ``[a, b, </s>]`` becomes ``[</s>, a, b]``, the decoder input for teacher forcing.
    """
    if len(values) == 0:
        raise ValueError("collate_tokens needs at least one tensor")
    size = max(int(v.size(0)) for v in values)
    if pad_to_length is not None:
        size = max(size, pad_to_length)
    if pad_to_multiple > 1 and size % pad_to_multiple != 0:
        size = (size // pad_to_multiple + 1) * pad_to_multiple
    out = values[0].new_full((len(values), size), pad_idx)
    for i, v in enumerate(values):
        n = int(v.size(0))
        dst = out[i, size - n :] if left_pad else out[i, :n]
        if n == 0:
            continue
        if move_eos_to_beginning:
            dst[0] = v[-1] if eos_idx is None else eos_idx
            dst[1:] = v[:-1]
        else:
            dst.copy_(v)
    return out


@contextlib.contextmanager
def numpy_seed(seed: int | None) -> Iterator[None]:
    """Seed numpy's global generator inside the block and restore its state afterwards.

    Datasets' ``ordered_indices`` draw from the global generator (as fairseq's do); running them
    under ``numpy_seed(seed)`` makes the order a function of the seed alone.
    """
    if seed is None:
        yield
        return
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def split_paths(paths: str) -> list[str]:
    """``DATA1:DATA2:...`` -> the list of folders (fairseq's ``utils.split_paths``)."""
    return [p for p in paths.split(os.pathsep) if p]


def infer_language_pairs(folder: str) -> list[tuple[str, str]]:
    """Language pairs named by ``<split>.<src>-<tgt>.<lang>.idx`` files in ``folder``, sorted."""
    pairs: set[tuple[str, str]] = set()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        parts = name.split(".")
        if len(parts) >= 4 and parts[-1] == "idx":
            langs = parts[-3].split("-")
            if len(langs) == 2 and all(langs):
                pairs.add((langs[0], langs[1]))
    return sorted(pairs)


def check_data_folder(folder: str) -> None:
    """A :class:`DataError` unless ``folder`` (the DATA argument) is a folder."""
    if os.path.isdir(folder):
        return
    if os.path.exists(folder):
        raise DataError(
            f"data folder {folder} is a file, not a folder (DATA is the folder seqcore "
            "preprocess wrote, with the dict.*.txt files)"
        )
    raise DataError(f"data folder {folder} does not exist")


def check_token_ids(dataset: Any, dictionary_size: int, path: str, sample: int = 1 << 20) -> None:
    """A ``DataError`` naming ``path`` when token ids in ``dataset`` reach ``dictionary_size``.

    Binarized data made with a different (larger) dictionary would otherwise index past the
    embedding table on the first batch that touches such an id. The check is cheap: nothing to do
    when the file's dtype cannot hold an id that large; otherwise the largest of the first and the
    last ``sample`` ids of the ``.bin`` (for an ``MMapIndexedDataset``; the items holding them
    for any other dataset) is compared.
    """
    dtype = getattr(dataset, "dtype", None)
    integer = dtype is not None and np.issubdtype(np.dtype(dtype), np.integer)
    if integer and int(np.iinfo(np.dtype(dtype)).max) < dictionary_size:
        return
    if len(dataset) == 0:
        return
    largest = _largest_id(dataset, sample)
    if largest >= dictionary_size:
        raise DataError(
            f"{path}: token id {largest} is out of range for a dictionary of {dictionary_size} "
            "symbols; the data was binarized with another dictionary"
        )


def _largest_id(dataset: Any, sample: int) -> int:
    prefix, dtype = getattr(dataset, "prefix", None), getattr(dataset, "dtype", None)
    bin_path = f"{prefix}.bin" if prefix is not None else None
    if bin_path is not None and dtype is not None and os.path.isfile(bin_path):
        if os.path.getsize(bin_path) == 0:
            return -1
        ids = np.memmap(bin_path, dtype=np.dtype(dtype).newbyteorder("<"), mode="r")
        return int(max(ids[:sample].max(), ids[-sample:].max()))
    largest, tokens, i = -1, 0, 0
    while i < len(dataset) and tokens < sample:
        item = dataset[i]
        if len(item) > 0:
            largest = max(largest, int(item.max()))
        tokens += len(item)
        i += 1
    last = dataset[len(dataset) - 1]
    if len(last) > 0:
        largest = max(largest, int(last.max()))
    return largest


class ConcatDataset(torch.utils.data.Dataset):
    """Datasets one after the other; ``sample_ratios[k]`` repeats dataset k that many times.

    Used for ``--upsample-primary`` when a split comes in parts (``train``, ``train1``, ...).
    """

    def __init__(self, datasets: Sequence[Any], sample_ratios: Sequence[int] | None = None) -> None:
        ratios = list(sample_ratios) if sample_ratios is not None else [1] * len(datasets)
        if len(ratios) != len(datasets) or any(int(r) < 1 for r in ratios):
            raise ValueError("sample_ratios must hold one integer >= 1 per dataset")
        self.datasets = list(datasets)
        self.sample_ratios = [int(r) for r in ratios]
        lengths = np.array([len(d) * r for d, r in zip(self.datasets, self.sample_ratios)])
        self.cumulative_sizes = np.cumsum(lengths)
        self.sizes = np.concatenate(
            [np.tile(np.asarray(d.sizes), r) for d, r in zip(self.datasets, self.sample_ratios)]
        )

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1]) if len(self.cumulative_sizes) else 0

    def __getitem__(self, index: int) -> Any:
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = int(self.cumulative_sizes[k - 1]) if k > 0 else 0
        return self.datasets[k][(index - start) % len(self.datasets[k])]
