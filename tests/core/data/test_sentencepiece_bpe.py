"""Training and applying the subword model of ``seqcore preprocess --bpe sentencepiece``
(seqcore.data.sentencepiece_bpe): line for line, and one-line errors naming the flag or file."""

from __future__ import annotations

import random
import sys

import pytest

from seqcore.data import sentencepiece_bpe
from seqcore.errors import ConfigError, DataError

spm = pytest.importorskip("sentencepiece")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("spm")
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyzäöü日本"
    words = ["".join(rng.choices(letters, k=rng.randint(2, 8))) for _ in range(300)]
    words += ["über", "haus", "hausboot", "boot", "katze", "katzen"]
    text = root / "train.txt"
    text.write_text(
        "".join(" ".join(rng.choices(words, k=5)) + "\n" for _ in range(400)), encoding="utf-8"
    )
    sentencepiece_bpe.train([str(text)], str(root / "sentencepiece"), vocab_size=40)
    return root / "sentencepiece.model"


def test_train_writes_the_model_and_vocab_where_preprocess_looks(model):
    assert model.is_file() and model.with_suffix(".vocab").is_file()
    assert sentencepiece_bpe.model_path(str(model.parent)) == str(model)
    assert spm.SentencePieceProcessor(model_file=str(model)).vocab_size() == 40


def test_encode_file_segments_line_for_line_as_sentencepiece_does(model, tmp_path):
    lines = ["über hausboot", "", "katzen 日本", "boot"]
    src = tmp_path / "in.txt"
    src.write_bytes("\r\n".join(lines).encode())  # Windows line ends, no final newline
    out = tmp_path / "out.txt"
    assert sentencepiece_bpe.encode_file(str(model), str(src), str(out), batch_lines=3) == 4
    processor = spm.SentencePieceProcessor(model_file=str(model))
    expected = [" ".join(processor.encode(line, out_type=str)) for line in lines]
    assert out.read_text(encoding="utf-8") == "".join(e + "\n" for e in expected)


def test_a_non_utf8_line_is_named(model, tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"haus\nboot\nd\xe9j\xe0\n")
    with pytest.raises(DataError) as caught:
        sentencepiece_bpe.encode_file(str(model), str(src), str(tmp_path / "out.txt"))
    assert str(caught.value) == f"{src} line 3: not valid UTF-8 (byte 0xe9)"


def test_a_vocabulary_too_large_for_the_text_names_the_flag(tmp_path):
    text = tmp_path / "tiny.txt"
    text.write_text("a b c\nb c d\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^--bpe-vocab-size 5000 is too large for the training"):
        sentencepiece_bpe.train([str(text)], str(tmp_path / "m"), vocab_size=5000)


def test_without_the_package_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # import fails
    with pytest.raises(ConfigError) as caught:
        sentencepiece_bpe.import_sentencepiece()
    assert str(caught.value) == (
        "--bpe sentencepiece needs the sentencepiece package: pip install sentencepiece "
        '(or pip install "seqcore-toolkit[sentencepiece]")'
    )
