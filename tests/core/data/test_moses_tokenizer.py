"""--tokenizer moses / --eval-bleu-detok moses: Moses's rules through sacremoses, with fairseq's
options (dash splits and XML escaping on unless turned off), each language on its side."""

import sys

import pytest

from seqcore.data.moses_tokenizer import MosesTokenizer
from seqcore.errors import ConfigError

pytest.importorskip("sacremoses")

RAW = 'It\'s a well-known fact: 3 < 4 & "quotes".'


def test_encode_splits_dashes_and_escapes_as_moses_does():
    assert MosesTokenizer().encode(RAW) == (
        "It &apos;s a well @-@ known fact : 3 &lt; 4 &amp; &quot; quotes &quot; ."
    )


def test_no_dash_splits_and_no_escape():
    moses = MosesTokenizer(no_dash_splits=True, no_escape=True)
    assert moses.encode(RAW) == 'It \'s a well-known fact : 3 < 4 & " quotes " .'


@pytest.mark.parametrize("options", [{}, {"no_dash_splits": True}, {"no_escape": True}])
def test_decode_undoes_encode(options):
    moses = MosesTokenizer(**options)
    for line in [RAW, "Hello, world!", "(a) [b] {c} -- don't; 'single' quotes"]:
        assert moses.decode(moses.encode(line)) == line


def test_source_language_tokenizes_and_target_language_detokenizes():
    # French keeps the apostrophe with the word before it, English with the word after
    fr_en = MosesTokenizer(source_lang="fr", target_lang="en")
    assert fr_en.encode("l'homme") == "l&apos; homme"
    assert fr_en.decode("it &apos;s") == "it's"
    en_fr = MosesTokenizer(source_lang="en", target_lang="fr")
    assert en_fr.encode("l'homme") == "l &apos;homme"
    assert en_fr.decode("l&apos; homme") == "l'homme"


def test_without_sacremoses_the_error_names_the_flag_and_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "sacremoses", None)
    with pytest.raises(ConfigError) as e:
        MosesTokenizer(flag="--eval-bleu-detok")
    assert str(e.value) == (
        "--eval-bleu-detok moses needs the sacremoses package: pip install sacremoses "
        '(or pip install "seqcore-toolkit[moses]")'
    )
