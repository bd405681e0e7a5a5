"""Binarizing text: lines as Python reads them, tokens as str.split, any worker count."""

import random
from collections import Counter

import numpy as np
import pytest

from seqcore.data import binarize, text_lines, vectorized_tokens
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDataset
from seqcore.errors import DataError

ALPHABET = ["a", "b", "ab", "é", "日本", "\t", " ", "  ", "\x0b", "\x0c", "\x1c", "\x1f",
            "x" * 7, "y" * 8, "z" * 9, "q" * 16, "w" * 17, "\x7f", "\x01", "<unk>", "</s>",
            "\xa0", "\u3000", "\x85", "\x00", "zzzzzzzzza"]  # fmt: skip
VOCAB = ["a", "b", "ab", "é", "日本", "x" * 7, "y" * 8, "z" * 9, "q" * 16, "w" * 17, "aa",
         "z" * 9 + "a", "q" * 16 + "w", "\x7f", "\x01"]  # fmt: skip


@pytest.fixture
def small_ranges(monkeypatch):
    """Tiny blocks and ranges, so that small files exercise the splitting and the workers."""
    monkeypatch.setattr(text_lines, "BLOCK_SIZE", 7)
    monkeypatch.setattr(binarize, "MIN_RANGE_BYTES", 1)


def make_dictionary():
    d = Dictionary()
    for w in VOCAB:
        d.add_symbol(w)
    return d


def random_lines(rng, n, alphabet=ALPHABET):
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(n)]


def reference_encode(d, lines):
    """Per line: str.split, look up, unknown -> <unk> (counted unless literally <unk>), </s>."""
    ids, sizes, replaced = [], [], 0
    for line in lines:
        words = line.split()
        for w in words:
            i = d.indices.get(w, d.unk())
            replaced += i == d.unk() and w != "<unk>"
            ids.append(i)
        ids.append(d.eos())
        sizes.append(len(words) + 1)
    return ids, sizes, replaced


def test_unicode_whitespace_list_is_complete():
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    ascii_ws = {c for c in spaces if ord(c) < 128}
    assert ascii_ws == set(vectorized_tokens.ASCII_WHITESPACE.decode())
    assert set(vectorized_tokens.UNICODE_WHITESPACE) == spaces - ascii_ws


def test_block_encoding_matches_per_line_reference():
    rng = random.Random(1)
    d = make_dictionary()
    encoder = binarize._Encoder(d, np.int64, allow_empty_lines=True)
    for _ in range(1500):
        lines = random_lines(rng, rng.randint(1, 8))
        ids, sizes, replaced = encoder.encode_block(("\n".join(lines) + "\n").encode(), 0)
        assert (ids.tolist(), sizes.tolist(), replaced) == reference_encode(d, lines)


def test_vectorized_grouping_counts_and_collision_fallback(monkeypatch):
    rng = random.Random(2)
    for _ in range(300):
        lines = random_lines(rng, 5, [w for w in ALPHABET if w not in ("\xa0", "\u3000", "\x85",
                                                                        "\x00")])  # fmt: skip
        block = ("\n".join(lines) + "\n").encode()
        groups = vectorized_tokens.group_block(block)
        assert groups is not None
        counts = Counter(dict(zip(groups.words, groups.counts.tolist())))
        counts.update(groups.long_words)
        counts = {w.decode(): n for w, n in counts.items()}
        assert counts == Counter(w for line in lines for w in line.split())
    # With a hash that maps every token alike, grouping must notice and give up.
    monkeypatch.setattr(vectorized_tokens, "_C1", np.uint64(0))
    assert vectorized_tokens.group_block(b"ab cd\nab\n") is None
    assert vectorized_tokens.group_block(b"ab ab\n") is not None
    d = make_dictionary()
    ids, sizes, _ = binarize._Encoder(d, np.int64, True).encode_block(b"ab a\nb\n", 0)
    assert ids.tolist() == [6, 4, 2, 5, 2] and sizes.tolist() == [3, 2]


def test_read_blocks_splits_lines_as_python_text_files(tmp_path):
    raw = b"a b\r\nc\rd\n\r\n\re \r\r\nlast"
    path = tmp_path / "t.txt"
    path.write_bytes(raw)
    with open(path, encoding="utf-8") as f:
        expected = [line.rstrip("\n") for line in f]
    for size in range(1, 12):
        with open(path, "rb") as f:
            blocks = list(text_lines.read_blocks(f, 0, len(raw), block_size=size))
        assert all(b.endswith(b"\n") for b in blocks)
        assert b"".join(blocks).decode().split("\n")[:-1] == expected
    assert text_lines.count_lines(str(path)) == len(expected)


def test_line_ranges_start_at_lines_and_cover_the_file(tmp_path):
    path = tmp_path / "t.txt"
    text = "".join(f"{'w ' * (i % 7)}{i}\n" for i in range(200))
    path.write_text(text)
    size = len(text.encode())
    for n in (1, 2, 3, 7, 50, 500):
        ranges = text_lines.line_ranges(str(path), n)
        assert ranges[0][0] == 0 and ranges[-1][1] == size and len(ranges) <= n
        for (_, e0), (s1, _) in zip(ranges, ranges[1:]):
            assert e0 == s1 and text.encode()[s1 - 1 : s1] == b"\n"


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_count_file_tokens(tmp_path, small_ranges, workers):
    rng = random.Random(3)
    lines = random_lines(rng, 60)
    path = tmp_path / "train.de"
    path.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    expected = Counter(w for line in lines for w in line.split())
    expected["</s>"] += len(lines)
    assert binarize.count_file_tokens(str(path), workers=workers) == expected


def reference_bin_idx(ids, sizes):
    """.bin/.idx bytes for uint16 ids per the facts file (numpy tobytes, independently)."""
    data = np.asarray(ids, dtype="<u2").tobytes()
    pointers = np.concatenate([[0], np.cumsum(sizes)[:-1] * 2]).astype("<i8")
    idx = b"MMIDIDX\x00\x00" + (1).to_bytes(8, "little") + bytes([8])
    idx += len(sizes).to_bytes(8, "little") + np.asarray(sizes, "<i4").tobytes()
    return data, idx + pointers.tobytes()


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_binarize_file_bytes_for_any_worker_count(tmp_path, small_ranges, workers):
    rng = random.Random(4)
    lines = random_lines(rng, 80)
    path = tmp_path / "valid.de"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    d = make_dictionary()
    stats = binarize.binarize_file(
        str(path), d, str(tmp_path / "o.bin"), str(tmp_path / "o.idx"), workers=workers
    )
    ids, sizes, replaced = reference_encode(d, lines)
    data, idx = reference_bin_idx(ids, sizes)
    assert (tmp_path / "o.bin").read_bytes() == data
    assert (tmp_path / "o.idx").read_bytes() == idx
    assert (stats.nseq, stats.ntok, stats.nreplaced) == (len(lines), len(ids), replaced)
    ds = MMapIndexedDataset(str(tmp_path / "o"))
    assert ds[5].tolist() == ids[sum(sizes[:5]) : sum(sizes[:6])]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.bin", "o.idx", "valid.de"]


@pytest.mark.parametrize("workers", [1, 3])
def test_bad_lines_name_the_line_and_leave_nothing(tmp_path, small_ranges, workers):
    d = make_dictionary()
    path = tmp_path / "train.en"
    path.write_bytes(b"a b\nab\n\nb\n")
    with pytest.raises(DataError) as err:
        binarize.binarize_file(str(path), d, str(tmp_path / "o.bin"), str(tmp_path / "o.idx"),
                               workers=workers, allow_empty_lines=False)  # fmt: skip
    assert str(err.value).startswith(f"{path} line 3: empty line")
    path.write_bytes(b"a b\nab\nb\na\n\xc3(\nb\n")
    with pytest.raises(DataError, match=r"train\.en line 5: not valid UTF-8"):
        binarize.binarize_file(str(path), d, str(tmp_path / "o.bin"), str(tmp_path / "o.idx"),
                               workers=workers)  # fmt: skip
    with pytest.raises(DataError, match=r"train\.en line 5: not valid UTF-8"):
        binarize.count_file_tokens(str(path), workers=workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.en"]
