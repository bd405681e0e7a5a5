"""Dictionary: fairseq's symbol order, finalize rule and dict.<lang>.txt format."""

import io

import pytest
import torch

from seqcore.data.dictionary import Dictionary, post_process
from seqcore.errors import DataError


def reference_finalize(counts, threshold=-1, nwords=-1, padding_factor=8):
    """The facts file's rule, written independently: symbols after the four specials."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if nwords > 0:
        ranked = ranked[: max(nwords - 4, 0)]
    kept = []
    for word, n in ranked:
        if n < threshold:
            break
        kept.append((word, n))
    i = 0
    while padding_factor > 1 and (4 + len(kept)) % padding_factor:
        kept.append((f"madeupword{i:04d}", 0))
        i += 1
    return kept


def test_special_symbols_come_first_in_fairseq_order():
    d = Dictionary()
    assert [d.bos(), d.pad(), d.eos(), d.unk()] == [0, 1, 2, 3]
    assert d.symbols == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(d) == 4 and d.nspecial == 4
    e = Dictionary(extra_special_symbols=["<mask>", "<sep>"])
    assert e.index("<mask>") == 4 and e.index("<sep>") == 5 and e.nspecial == 6


def test_add_symbol_counts_and_overwrite():
    d = Dictionary()
    assert d.add_symbol("a") == 4
    assert d.add_symbol("a", n=5) == 4
    assert d.count[4] == 6
    assert d.add_symbol("a", n=2, overwrite=True) == 5  # a new entry, as fairseq
    assert d.index("a") == 5 and d.count[5] == 2
    assert "a" in d and "b" not in d
    assert d.index("b") == d.unk()
    assert d[1000] == "<unk>"


@pytest.mark.parametrize(
    "threshold,nwords,padding",
    [(-1, -1, 8), (0, -1, 8), (3, -1, 8), (-1, 9, 8), (-1, 6, 1), (2, 12, 4), (-1, 3, 8)],
)
def test_finalize_matches_the_rule(threshold, nwords, padding):
    counts = {"b": 3, "a": 3, "c": 1, "dd": 7, "e": 3, "f": 2, "g": 1, "Z": 3, "h": 0}
    d = Dictionary()
    for word, n in counts.items():  # insertion order must not matter
        d.add_symbol(word, n)
    d.finalize(threshold=threshold, nwords=nwords, padding_factor=padding)
    expected = reference_finalize(counts, threshold, nwords, padding)
    assert list(zip(d.symbols[4:], d.count[4:])) == expected
    assert d.symbols[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert d.indices == {w: i for i, w in enumerate(d.symbols)}
    if padding > 1:
        assert len(d) % padding == 0


def test_finalize_ties_sort_by_symbol_and_padding_names():
    d = Dictionary.from_counts({"b": 2, "a": 2, "c": 5})
    assert d.symbols == ["<s>", "<pad>", "</s>", "<unk>", "c", "a", "b", "madeupword0000"]
    assert d.count[-1] == 0


def test_from_counts_special_counts_do_not_become_symbols():
    d = Dictionary.from_counts({"</s>": 10, "<unk>": 2, "x": 1}, padding_factor=1)
    assert d.symbols == ["<s>", "<pad>", "</s>", "<unk>", "x"]


def test_save_writes_token_count_lines(tmp_path):
    d = Dictionary.from_counts({"hallo": 3, "welt": 1}, padding_factor=4)
    path = tmp_path / "sub" / "dict.de.txt"
    d.save(str(path))
    assert path.read_bytes() == b"hallo 3\nwelt 1\nmadeupword0000 0\nmadeupword0001 0\n"
    assert d.to_string() == path.read_text()


def test_load_round_trip_and_file_object(tmp_path):
    d = Dictionary.from_counts({"x": 9, "y": 4, "größe": 4, "日本": 1})
    path = tmp_path / "dict.txt"
    d.save(path)
    loaded = Dictionary.load(path)
    assert loaded == d and loaded.count == d.count
    assert Dictionary.load(io.StringIO(path.read_text())) == d


def test_load_overwrite_flag_and_spaces_in_token(tmp_path):
    path = tmp_path / "dict.en.txt"
    path.write_text("a 5\nb 3\na 7 #fairseq:overwrite\nx y 2\n<unk> 1 #fairseq:overwrite\n")
    d = Dictionary.load(str(path))
    assert d.symbols[4:] == ["a", "b", "a", "x y", "<unk>"]
    assert d.index("a") == 6 and d.count[6] == 7
    assert d.index("x y") == 7
    assert d.unk() == 3  # the special index stays; the file may re-declare the word


def test_load_duplicate_without_flag_is_an_error(tmp_path):
    path = tmp_path / "dict.de.txt"
    path.write_text("a 5\nb 3\na 7\n")
    with pytest.raises(DataError, match=r"dict\.de\.txt line 3: duplicate token 'a'"):
        Dictionary.load(str(path))
    path.write_text("</s> 5\n")
    with pytest.raises(DataError, match="line 1: duplicate token '</s>'"):
        Dictionary.load(str(path))


@pytest.mark.parametrize("bad", ["foo", "foo bar", "", "a 1.5", "7"])
def test_load_malformed_line_names_file_and_line(tmp_path, bad):
    path = tmp_path / "dict.de.txt"
    path.write_text("a 1\nb 2\n" + bad + "\nc 3\n")
    with pytest.raises(DataError) as err:
        Dictionary.load(str(path))
    msg = str(err.value)
    assert msg == f"{path} line 3: expected '<token> <count>', got {bad!r}"
    assert "\n" not in msg


def test_load_errors_for_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(DataError, match="cannot read dictionary .*nope.txt"):
        Dictionary.load(str(tmp_path / "nope.txt"))
    path = tmp_path / "dict.de.txt"
    path.write_bytes(b"a 1\r\nb 2\r\n\xff\xfe 3\r\n")
    with pytest.raises(DataError, match=r"dict\.de\.txt line 3: not valid UTF-8"):
        Dictionary.load(str(path))


def test_load_reads_crlf_files(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_bytes(b"a 1\r\nb 2\r\n")
    assert Dictionary.load(path).symbols[4:] == ["a", "b"]


def test_encode_line():
    d = Dictionary()
    ids = d.encode_line("  hello  world\thello \n")
    assert ids.dtype == torch.int32
    assert ids.tolist() == [4, 5, 4, 2]
    assert d.count[4] == 2
    seen = []
    ids = d.encode_line(
        "world unseen", add_if_not_exist=False, consumer=lambda w, i: seen.append((w, i))
    )
    assert ids.tolist() == [5, 3, 2]
    assert seen == [("world", 5), ("unseen", 3)]
    assert len(d) == 6
    assert d.encode_line("hello world", append_eos=False, reverse_order=True).tolist() == [5, 4]
    assert d.encode_line("", add_if_not_exist=False).tolist() == [2]
    assert d.encode_line("a\u3000b\xa0c", add_if_not_exist=False).tolist() == [3, 3, 3, 2]


def test_string_leaves_out_specials_and_handles_rows():
    d = Dictionary()
    for w in ["the", "cat", "sat"]:
        d.add_symbol(w)
    t = torch.tensor([0, 4, 5, 3, 6, 2, 1, 1])
    assert d.string(t) == "the cat <unk> sat"
    assert d.string(t, escape_unk=True) == "the cat <<unk>> sat"
    assert d.string(t, unk_string="UNK") == "the cat UNK sat"
    assert d.string(t, include_eos=True) == "the cat <unk> sat </s>"
    assert d.string(t, extra_symbols_to_ignore=[5]) == "the <unk> sat"
    batch = torch.tensor([[4, 5, 2, 1], [6, 2, 1, 1]])
    assert d.string(batch) == "the cat\nsat"
    assert d.string([4, 6]) == "the sat"


def test_string_undoes_subwords():
    d = Dictionary()
    for w in ["▁he", "llo", "▁world", "wo@@", "rld"]:
        d.add_symbol(w)
    assert d.string(torch.tensor([4, 5, 6, 2]), bpe_symbol="sentencepiece") == "hello world"
    assert d.string(torch.tensor([7, 8, 2]), bpe_symbol="@@ ") == "world"
    assert post_process("wo@@ rld x", "subword_nmt") == "world x"
    assert post_process("a b", None) == "a b"
