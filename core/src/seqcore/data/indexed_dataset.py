"""fairseq's memory-mapped indexed dataset: ``<prefix>.bin`` (token ids) + ``<prefix>.idx``.

``.bin`` holds the ids of all items concatenated, little-endian, in one integer dtype. ``.idx`` is
a small header followed by two arrays::

    b"MMIDIDX\\x00\\x00"   magic, 9 bytes
    uint64 = 1            version
    uint8                 dtype code (see DTYPES)
    uint64 N              number of items
    int32[N]              sizes: tokens per item
    int64[N]              pointers: byte offset of each item in .bin

Opening a dataset maps only the ``.idx``; the ``.bin`` is memory-mapped on the first item read, so
opening costs the same for a 1 kB and a 1 TB corpus, and pages of ``.bin`` are read on demand.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from seqcore.errors import DataError

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
_HEADER = struct.Struct("<9sQBQ")  # magic, version, dtype code, number of items

# fairseq's codes; 6 and 7 are both float64 (fairseq writes 6 for it).
DTYPES: dict[int, np.dtype] = {
    1: np.dtype(np.uint8),
    2: np.dtype(np.int8),
    3: np.dtype(np.int16),
    4: np.dtype(np.int32),
    5: np.dtype(np.int64),
    6: np.dtype(np.float64),
    7: np.dtype(np.double),
    8: np.dtype(np.uint16),
    9: np.dtype(np.uint32),
    10: np.dtype(np.uint64),
}


def dtype_code(dtype: Any) -> int:
    """The ``.idx`` code of ``dtype`` (the first code that maps to it, as fairseq)."""
    dtype = np.dtype(dtype)
    for code, candidate in DTYPES.items():
        if candidate == dtype:
            return code
    raise ValueError(f"dtype {dtype} has no MMIDIDX code")


def best_dtype(vocab_size: int | None) -> np.dtype:
    """The dtype fairseq-preprocess stores ids in for a vocabulary of ``vocab_size`` symbols."""
    if vocab_size is None:
        return np.dtype(np.uint32)
    if vocab_size < 65500:
        return np.dtype(np.uint16)
    if vocab_size < 4294967295:
        return np.dtype(np.uint32)
    return np.dtype(np.int64)


def index_file_path(prefix: str | os.PathLike[str]) -> str:
    return os.fspath(prefix) + ".idx"


def data_file_path(prefix: str | os.PathLike[str]) -> str:
    return os.fspath(prefix) + ".bin"


def write_index(path: str | os.PathLike[str], dtype: Any, sizes: Iterable[int]) -> None:
    """Write an ``.idx`` for items of ``sizes`` tokens stored back to back in ``dtype``."""
    dtype = np.dtype(dtype)
    sizes64 = np.asarray(sizes, dtype=np.int64).reshape(-1)
    if sizes64.size and (sizes64.min() < 0 or sizes64.max() > np.iinfo(np.int32).max):
        raise ValueError("item sizes must lie in [0, 2**31)")
    pointers = np.zeros(sizes64.size, dtype=np.int64)
    np.cumsum(sizes64[:-1] * dtype.itemsize, out=pointers[1:])
    with open(path, "wb") as f:
        f.write(_HEADER.pack(MAGIC, VERSION, dtype_code(dtype), sizes64.size))
        f.write(sizes64.astype("<i4").tobytes())
        f.write(pointers.astype("<i8").tobytes())


def _as_ids(item: Any, dtype: np.dtype) -> np.ndarray:
    """``item`` (tensor, array or list of ids) as a 1-D array of ``dtype``, refusing overflow."""
    if torch.is_tensor(item):
        item = item.detach().cpu().numpy()
    arr = np.asarray(item).reshape(-1)
    if arr.dtype != dtype and arr.size:
        if not np.can_cast(arr.dtype, dtype, casting="safe"):
            info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
            low, high = arr.min(), arr.max()
            if low < info.min or high > info.max:
                raise ValueError(f"ids in [{low}, {high}] do not fit in {dtype}")
        arr = arr.astype(dtype)
    return arr.astype(dtype.newbyteorder("<"), copy=False)


class MMapIndexedDatasetBuilder:
    """Writes a ``.bin`` item by item; :meth:`finalize` writes the matching ``.idx``."""

    def __init__(self, data_path: str | os.PathLike[str], dtype: Any = np.int64) -> None:
        self._dtype = np.dtype(dtype)
        dtype_code(self._dtype)  # refuse a dtype the format cannot name
        self._file = open(data_path, "wb")  # noqa: SIM115 - closed in finalize()
        self._sizes: list[np.ndarray] = []
        self._pending: list[int] = []

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def add_item(self, item: Any) -> None:
        """Append one item (a tensor, array or list of ids)."""
        arr = _as_ids(item, self._dtype)
        self._file.write(arr.tobytes())
        self._pending.append(arr.size)

    def add_items(self, ids: np.ndarray, sizes: np.ndarray) -> None:
        """Append many items at once: ``ids`` concatenated, ``sizes`` tokens each."""
        arr = _as_ids(ids, self._dtype)
        sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
        if int(sizes.sum()) != arr.size:
            raise ValueError(f"sizes add up to {int(sizes.sum())} but {arr.size} ids were given")
        self._flush_pending()
        self._file.write(arr.tobytes())
        self._sizes.append(sizes)

    def add_raw(self, data: bytes | memoryview, sizes: np.ndarray) -> None:
        """Append items already encoded in this builder's dtype (little-endian bytes)."""
        sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
        if int(sizes.sum()) * self._dtype.itemsize != len(data):
            raise ValueError("byte length does not match the sizes")
        self._flush_pending()
        self._file.write(data)
        self._sizes.append(sizes)

    def merge_file_(self, prefix: str | os.PathLike[str]) -> None:
        """Append all items of the dataset at ``prefix`` (which must share this dtype)."""
        other = MMapIndexedDataset(prefix)
        if other.dtype != self._dtype:
            raise DataError(
                f"{index_file_path(prefix)}: dtype {other.dtype} differs from {self._dtype}"
            )
        self._flush_pending()
        self._sizes.append(np.asarray(other.sizes, dtype=np.int64))
        with open(data_file_path(prefix), "rb") as f:
            shutil.copyfileobj(f, self._file, 1 << 22)

    def _flush_pending(self) -> None:
        if self._pending:
            self._sizes.append(np.asarray(self._pending, dtype=np.int64))
            self._pending = []

    def finalize(self, index_path: str | os.PathLike[str]) -> None:
        """Close the ``.bin`` and write the ``.idx``."""
        self._flush_pending()
        self._file.close()
        sizes = np.concatenate(self._sizes) if self._sizes else np.zeros(0, np.int64)
        write_index(index_path, self._dtype, sizes)

    def close(self) -> None:
        """Close the ``.bin`` without writing an index (after an error)."""
        self._file.close()


class MMapIndexedDataset(torch.utils.data.Dataset):
    """Read access to ``<prefix>.bin``/``.idx``; ``ds[i]`` is item ``i`` as an int64 tensor."""

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        super().__init__()
        self._open(os.fspath(prefix))

    def _open(self, prefix: str) -> None:
        self._prefix = prefix
        idx_path, bin_path = index_file_path(prefix), data_file_path(prefix)
        for path in (idx_path, bin_path):
            if not os.path.isfile(path):
                raise DataError(f"{path}: no such file (a dataset needs {prefix}.idx and .bin)")
        try:
            idx_size = os.path.getsize(idx_path)
            self._bin_size = os.path.getsize(bin_path)
        except OSError as e:
            raise DataError(f"cannot read dataset {prefix}: {e.strerror or e}") from None
        if idx_size < _HEADER.size:
            raise DataError(f"{idx_path}: truncated index ({idx_size} bytes, header needs 26)")
        index = np.memmap(idx_path, dtype=np.uint8, mode="r")
        magic, version, code, n = _HEADER.unpack_from(index, 0)
        if magic != MAGIC:
            raise DataError(f"{idx_path}: not an MMIDIDX index (magic {magic!r})")
        if version != VERSION:
            raise DataError(f"{idx_path}: unsupported MMIDIDX version {version} (expected 1)")
        if code not in DTYPES:
            raise DataError(f"{idx_path}: unknown dtype code {code}")
        if idx_size < _HEADER.size + 12 * n:
            raise DataError(
                f"{idx_path}: truncated index ({idx_size} bytes for {n} items, "
                f"expected {_HEADER.size + 12 * n})"
            )
        self._dtype = DTYPES[code]
        self._index = index
        self._sizes = np.frombuffer(index, dtype="<i4", count=n, offset=_HEADER.size)
        self._pointers = np.frombuffer(index, dtype="<i8", count=n, offset=_HEADER.size + 4 * n)
        self._check_bounds(idx_path, bin_path)
        self._bin: np.ndarray | None = None  # mapped on first read

    def _check_bounds(self, idx_path: str, bin_path: str) -> None:
        if not len(self._sizes):
            return
        if int(self._sizes.min()) < 0:
            bad = int(np.flatnonzero(self._sizes < 0)[0])
            raise DataError(f"{idx_path}: item {bad} has a negative size")
        ends = self._pointers + self._sizes.astype(np.int64) * self._dtype.itemsize
        outside = (self._pointers < 0) | (ends > self._bin_size)
        if outside.any():
            bad = int(np.flatnonzero(outside)[0])
            raise DataError(
                f"{idx_path}: item {bad} (bytes {int(self._pointers[bad])}..{int(ends[bad])}) "
                f"lies past the end of {bin_path} ({self._bin_size} bytes)"
            )

    def _map_bin(self) -> np.ndarray:
        if self._bin_size == 0:
            self._bin = np.zeros(0, dtype=np.uint8)
        else:
            self._bin = np.memmap(data_file_path(self._prefix), dtype=np.uint8, mode="r")
        return self._bin

    def __getstate__(self) -> dict[str, Any]:
        return {"prefix": self._prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._open(state["prefix"])

    def __len__(self) -> int:
        return len(self._sizes)

    def __getitem__(self, i: int) -> torch.Tensor:
        ptr = self._pointers[i]
        size = self._sizes[i]
        data = self._bin if self._bin is not None else self._map_bin()
        arr = np.frombuffer(data, dtype=self._dtype, count=size, offset=ptr)
        return torch.from_numpy(arr.astype(np.int64))

    @property
    def sizes(self) -> np.ndarray:
        """Tokens per item (int32, a read-only view of the index)."""
        return self._sizes

    @property
    def pointers(self) -> np.ndarray:
        """Byte offset of each item in ``.bin`` (int64, a read-only view of the index)."""
        return self._pointers

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def supports_prefetch(self) -> bool:
        return False

    @staticmethod
    def exists(prefix: str | os.PathLike[str]) -> bool:
        """Whether both ``<prefix>.idx`` and ``<prefix>.bin`` exist."""
        return os.path.exists(index_file_path(prefix)) and os.path.exists(data_file_path(prefix))
