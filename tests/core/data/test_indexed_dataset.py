"""MMIDIDX datasets: bytes as the facts file describes them, lazy .bin, clear errors."""

import os
import pickle
import struct
import time

import numpy as np
import pytest
import torch

from seqcore.data.indexed_dataset import (
    DTYPES,
    MMapIndexedDataset,
    MMapIndexedDatasetBuilder,
    best_dtype,
    dtype_code,
)
from seqcore.errors import DataError

FACT_CODES = {1: "uint8", 2: "int8", 3: "int16", 4: "int32", 5: "int64", 6: "float64",
              7: "float64", 8: "uint16", 9: "uint32", 10: "uint64"}  # fmt: skip


def reference_files(items, code, np_type):
    """(.bin bytes, .idx bytes) written from the facts file with struct, independently."""
    data = b"".join(struct.pack(f"<{len(x)}{np_type}", *x) for x in items)
    itemsize = struct.calcsize(f"<{np_type}")
    idx = b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + struct.pack("<B", code)
    idx += struct.pack("<Q", len(items))
    idx += b"".join(struct.pack("<i", len(x)) for x in items)
    offset = 0
    for x in items:
        idx += struct.pack("<q", offset)
        offset += len(x) * itemsize
    return data, idx


ITEMS = [[5, 6, 2], [2], [], [7, 8, 9, 10, 11, 2], [65000, 2]]


def build(prefix, items, dtype):
    builder = MMapIndexedDatasetBuilder(f"{prefix}.bin", dtype=dtype)
    for x in items:
        builder.add_item(torch.tensor(x, dtype=torch.int64))
    builder.finalize(f"{prefix}.idx")


@pytest.mark.parametrize("dtype,code,fmt", [(np.uint16, 8, "H"), (np.int64, 5, "q"),
                                            (np.uint32, 9, "I"), (np.int32, 4, "i")])  # fmt: skip
def test_builder_writes_the_documented_bytes(tmp_path, dtype, code, fmt):
    prefix = tmp_path / "train.de-en.de"
    build(prefix, ITEMS, dtype)
    data, idx = reference_files(ITEMS, code, fmt)
    assert (tmp_path / "train.de-en.de.bin").read_bytes() == data
    assert (tmp_path / "train.de-en.de.idx").read_bytes() == idx


def test_reader_reads_reference_files(tmp_path):
    data, idx = reference_files(ITEMS, 8, "H")
    (tmp_path / "d.bin").write_bytes(data)
    (tmp_path / "d.idx").write_bytes(idx)
    ds = MMapIndexedDataset(str(tmp_path / "d"))
    assert len(ds) == len(ITEMS)
    assert ds.sizes.dtype == np.int32
    assert ds.sizes.tolist() == [len(x) for x in ITEMS]
    assert ds.dtype == np.uint16
    for i, x in enumerate(ITEMS):
        item = ds[i]
        assert item.dtype == torch.int64 and item.tolist() == x
    assert ds[-1].tolist() == ITEMS[-1]
    with pytest.raises(IndexError):
        ds[len(ITEMS)]
    ds[0][0] = 99  # items are copies, writable
    assert ds[0][0] == 5
    assert MMapIndexedDataset.exists(str(tmp_path / "d"))
    assert not MMapIndexedDataset.exists(str(tmp_path / "e"))


def test_dtype_codes_and_choice_by_vocabulary_size():
    assert {c: str(t) for c, t in DTYPES.items()} == FACT_CODES
    assert dtype_code(np.float64) == 6 and dtype_code(np.uint16) == 8
    assert best_dtype(8) == np.uint16 and best_dtype(65499) == np.uint16
    assert best_dtype(65500) == np.uint32 and best_dtype(2**32 - 2) == np.uint32
    assert best_dtype(2**32 - 1) == np.int64 and best_dtype(None) == np.uint32


def test_builder_refuses_ids_that_do_not_fit(tmp_path):
    builder = MMapIndexedDatasetBuilder(str(tmp_path / "x.bin"), dtype=np.uint16)
    with pytest.raises(ValueError, match="do not fit"):
        builder.add_item([1, 70000])
    with pytest.raises(ValueError, match="do not fit"):
        builder.add_item([-1])
    builder.close()


def test_add_items_merge_and_empty_dataset(tmp_path):
    a = MMapIndexedDatasetBuilder(str(tmp_path / "a.bin"), dtype=np.uint16)
    a.add_item([1, 2])
    a.add_items(np.array([3, 4, 5, 6]), np.array([3, 1]))
    a.finalize(str(tmp_path / "a.idx"))
    b = MMapIndexedDatasetBuilder(str(tmp_path / "b.bin"), dtype=np.uint16)
    b.merge_file_(str(tmp_path / "a"))
    b.add_item([9])
    b.merge_file_(str(tmp_path / "a"))
    b.finalize(str(tmp_path / "b.idx"))
    ds = MMapIndexedDataset(str(tmp_path / "b"))
    assert [ds[i].tolist() for i in range(len(ds))] == [[1, 2], [3, 4, 5], [6], [9],
                                                       [1, 2], [3, 4, 5], [6]]  # fmt: skip
    data, idx = reference_files([[1, 2], [3, 4, 5], [6], [9], [1, 2], [3, 4, 5], [6]], 8, "H")
    assert (tmp_path / "b.idx").read_bytes() == idx
    empty = MMapIndexedDatasetBuilder(str(tmp_path / "e.bin"), dtype=np.uint16)
    empty.finalize(str(tmp_path / "e.idx"))
    ds = MMapIndexedDataset(str(tmp_path / "e"))
    assert len(ds) == 0 and ds.sizes.tolist() == []


def test_pickles_by_path(tmp_path):
    build(tmp_path / "p", ITEMS, np.uint16)
    ds = pickle.loads(pickle.dumps(MMapIndexedDataset(str(tmp_path / "p"))))
    assert ds[3].tolist() == ITEMS[3]


def test_opening_does_not_read_the_bin(tmp_path):
    """A 64 GiB sparse .bin opens as fast as a tiny one; it is mapped only on first access."""
    data, idx = reference_files(ITEMS, 8, "H")
    (tmp_path / "big.idx").write_bytes(idx)
    with open(tmp_path / "big.bin", "wb") as f:
        f.write(data)
        f.truncate(64 << 30)
    start = time.perf_counter()
    ds = MMapIndexedDataset(str(tmp_path / "big"))
    assert time.perf_counter() - start < 1.0
    assert ds._bin is None
    assert ds[3].tolist() == ITEMS[3]
    assert ds._bin is not None


def write_raw(tmp_path, idx, data=b"\x00" * 64):
    (tmp_path / "bad.idx").write_bytes(idx)
    (tmp_path / "bad.bin").write_bytes(data)
    return str(tmp_path / "bad")


def test_validation_errors_name_the_file(tmp_path):
    data, idx = reference_files(ITEMS, 8, "H")
    cases = [
        (b"NOTMMIDX\x00" + idx[9:], "not an MMIDIDX index"),
        (idx[:9] + struct.pack("<Q", 2) + idx[17:], "unsupported MMIDIDX version 2"),
        (idx[:17] + bytes([11]) + idx[18:], "unknown dtype code 11"),
        (idx[:20], "truncated index"),
        (idx[:-4], "truncated index"),
    ]
    for bad_idx, message in cases:
        prefix = write_raw(tmp_path, bad_idx, data)
        with pytest.raises(DataError, match=message) as err:
            MMapIndexedDataset(prefix)
        assert "bad.idx" in str(err.value)
    prefix = write_raw(tmp_path, idx, data[:-2])
    with pytest.raises(DataError, match=r"item 4 .* past the end of .*bad\.bin"):
        MMapIndexedDataset(prefix)
    os.remove(tmp_path / "bad.bin")
    with pytest.raises(DataError, match=r"bad\.bin: no such file"):
        MMapIndexedDataset(prefix)
