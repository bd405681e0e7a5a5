"""Between text and tokens at inference (seqcore.data.text): which subword segmentation a data
folder was made with (``--bpe auto``), the S-/H- strings and the detokenized D- text, and raw
input segmented as the data folder was."""

from __future__ import annotations

import random

import pytest
import torch

from seqcore.data import sentencepiece_bpe
from seqcore.data.dictionary import Dictionary
from seqcore.data.text import InputText, OutputText, bpe_of, first_data_folder
from seqcore.errors import ConfigError

SP = "\u2581"  # sentencepiece's word-start mark


def pieces_dictionary(*symbols: str) -> Dictionary:
    d = Dictionary()
    for s in symbols:
        d.add_symbol(s)
    return d


def test_bpe_auto_is_sentencepiece_exactly_when_the_first_folder_has_its_model(tmp_path):
    plain, spm = tmp_path / "plain", tmp_path / "spm"
    plain.mkdir(), spm.mkdir()
    (spm / "sentencepiece.model").write_bytes(b"x")
    assert bpe_of("auto", str(plain)) == "none"
    assert bpe_of("auto", str(spm)) == "sentencepiece"
    assert bpe_of("auto", f"{spm}:{plain}") == "sentencepiece"  # DATA=a:b reads a's model
    assert bpe_of("auto", f"{plain}:{spm}") == "none"
    assert bpe_of("none", str(spm)) == "none"  # an explicit choice wins
    assert first_data_folder(f"{spm}:{plain}") == str(spm)


def test_bpe_sentencepiece_without_a_model_is_one_line_naming_the_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        bpe_of("sentencepiece", str(tmp_path))
    assert str(caught.value) == (
        f"--bpe sentencepiece: {tmp_path / 'sentencepiece.model'} does not exist (seqcore "
        "preprocess --bpe sentencepiece writes it)"
    )


def test_sentencepiece_output_is_joined_for_d_lines_as_fairseq_does():
    d = pieces_dictionary(f"{SP}Hello", f"{SP}wor", "ld", f"{SP}!")
    tokens = torch.tensor([d.index(s) for s in (f"{SP}Hello", f"{SP}wor", "ld", f"{SP}!")])
    out = OutputText(None, "sentencepiece")
    h_line = out.string(d, tokens)
    assert h_line == f"{SP}Hello {SP}wor ld {SP}!"  # H- lines keep the pieces
    # fairseq's rule, written out: drop the spaces between pieces, the marks become spaces
    assert out.decode(h_line) == "".join(h_line.split(" ")).replace(SP, " ").strip()
    assert out.decode(h_line) == "Hello world !" and out.detokenizes


def test_remove_bpe_sentencepiece_joins_once():
    d = pieces_dictionary(f"{SP}a", "b", f"{SP}c")
    tokens = torch.tensor([d.index(f"{SP}a"), d.index("b"), d.index(f"{SP}c")])
    out = OutputText("sentencepiece", "sentencepiece")
    assert out.string(d, tokens) == "ab c"  # joined in the H- line already
    assert out.decode("ab c") == "ab c"  # and not again for the D- line


def test_plain_text_is_left_as_it_is():
    d = pieces_dictionary("a@@", "b", "c")
    tokens = torch.tensor([d.index("a@@"), d.index("b"), d.index("c")])
    assert not OutputText(None, "none").detokenizes
    assert OutputText(None, "none").decode("a@@ b c") == "a@@ b c"
    subword = OutputText("subword_nmt", "none")
    assert subword.string(d, tokens) == "ab c" and subword.detokenizes


def test_raw_input_is_segmented_with_the_data_folder_s_model(tmp_path):
    spm = pytest.importorskip("sentencepiece")
    rng = random.Random(0)
    words = ["haus", "hausboot", "boot", "katze", "katzenhaus", "der", "die", "das"]
    text = tmp_path / "train.txt"
    text.write_text(
        "".join(" ".join(rng.choices(words, k=6)) + "\n" for _ in range(300)), encoding="utf-8"
    )
    folder = tmp_path / "data-bin"
    folder.mkdir()
    sentencepiece_bpe.train([str(text)], str(folder / "sentencepiece"), vocab_size=20)
    processor = spm.SentencePieceProcessor(model_file=str(folder / "sentencepiece.model"))
    line = "der katzenhaus boot"
    encoded = InputText("sentencepiece", str(folder)).encode(line)
    assert encoded == " ".join(processor.encode(line, out_type=str))
    assert OutputText(None, "sentencepiece").decode(encoded) == line  # and back
    assert InputText("none", str(folder)).encode(line) == line
