"""`seqcore preprocess` and seqcore.data.preprocess: fairseq-preprocess's files, byte for byte,
and clean failures."""

import dataclasses
import random
import struct
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from seqcore.cli.preprocess import preprocess
from seqcore.data import binarize, text_lines
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDataset
from seqcore.data.preprocess import PreprocessOptions, run_preprocess
from seqcore.errors import ConfigError, DataError, SeqcoreError

WORDS = ["der", "die", "das", "haus", "katze", "größe", "日本", "über", "x" * 12, "y" * 20]


# -- an independent reference preprocess, from the facts file ---------------------------------
def ref_dictionary(paths, threshold=0, nwords=-1, padding=8):
    counts = Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                counts.update(line.split())
    for special in ("<s>", "<pad>", "</s>", "<unk>"):
        counts.pop(special, None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if nwords > 0:
        ranked = ranked[: nwords - 4]
    kept = [(w, n) for w, n in ranked]
    for i, (_, n) in enumerate(kept):
        if n < threshold:
            kept = kept[:i]
            break
    k = 0
    while padding > 1 and (4 + len(kept)) % padding:
        kept.append((f"madeupword{k:04d}", 0))
        k += 1
    text = "".join(f"{w} {n}\n" for w, n in kept)
    index = {w: i + 4 for i, (w, _) in enumerate(kept)}
    return text, index, 4 + len(kept)


def ref_binarize(path, index):
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            items.append([index.get(w, 3) for w in line.split()] + [2])
    fmt = "H"  # every vocabulary here is far below 65,500
    data = b"".join(struct.pack(f"<{len(x)}{fmt}", *x) for x in items)
    idx = b"MMIDIDX\x00\x00" + struct.pack("<QBQ", 1, 8, len(items))
    idx += struct.pack(f"<{len(items)}i", *[len(x) for x in items])
    offsets, offset = [], 0
    for x in items:
        offsets.append(offset)
        offset += 2 * len(x)
    idx += struct.pack(f"<{len(items)}q", *offsets)
    return data, idx


# -- helpers -----------------------------------------------------------------------------------
def run(*args):
    """Invoke the command; user errors propagate as SeqcoreError (the CLI wrapper prints them)."""
    result = CliRunner().invoke(preprocess, [str(a) for a in args], catch_exceptions=False,
                                standalone_mode=False)  # fmt: skip
    return result.output


def write_corpus(folder, split, n, seed, langs=("de", "en")):
    rng = random.Random(seed)
    for lang in langs:
        lines = [" ".join(rng.choices(WORDS, k=rng.randint(1, 9))) for _ in range(n)]
        (folder / f"{split}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(folder / split)


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "text"
    src.mkdir()
    return {
        "train": write_corpus(src, "train", 300, 1),
        "valid": write_corpus(src, "valid", 40, 2),
        "test": write_corpus(src, "test", 30, 3),
        "test2": write_corpus(src, "test2", 20, 4),
        "dir": src,
    }


@pytest.fixture
def small_ranges(monkeypatch):
    monkeypatch.setattr(text_lines, "BLOCK_SIZE", 64)
    monkeypatch.setattr(binarize, "MIN_RANGE_BYTES", 1)


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


# -- outputs -----------------------------------------------------------------------------------
def test_parallel_corpus_files_match_the_reference(tmp_path, corpus):
    out = tmp_path / "data-bin"
    log = run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--validpref",
              corpus["valid"], "--testpref", f"{corpus['test']},{corpus['test2']}",
              "--destdir", out)  # fmt: skip
    assert listing(out) == sorted(
        ["dict.de.txt", "dict.en.txt"]
        + [
            f"{s}.de-en.{lang}.{ext}"
            for s in ("train", "valid", "test", "test1")
            for lang in ("de", "en")
            for ext in ("bin", "idx")
        ]  # fmt: skip
    )
    for lang in ("de", "en"):
        text, index, size = ref_dictionary([f"{corpus['train']}.{lang}"])
        assert (out / f"dict.{lang}.txt").read_text(encoding="utf-8") == text
        for split, prefix in [("train", corpus["train"]), ("valid", corpus["valid"]),
                              ("test", corpus["test"]), ("test1", corpus["test2"])]:  # fmt: skip
            data, idx = ref_binarize(f"{prefix}.{lang}", index)
            assert (out / f"{split}.de-en.{lang}.bin").read_bytes() == data
            assert (out / f"{split}.de-en.{lang}.idx").read_bytes() == idx
    assert f"[de] Dictionary: {size} types" in log
    assert f"[en] {corpus['valid']}.en: 40 sents, " in log
    assert "% replaced by <unk>" in log
    assert log.strip().endswith(f"Wrote preprocessed data to {out}")


def test_summary_line_counts(tmp_path):
    (tmp_path / "train.de").write_text("a b c\na b\n")
    (tmp_path / "train.en").write_text("x\ny\n")
    (tmp_path / "valid.de").write_text("a zz\nq <unk>\n")
    (tmp_path / "valid.en").write_text("x\nx\n")
    log = run("-s", "de", "-t", "en", "--trainpref", tmp_path / "train", "--validpref",
              tmp_path / "valid", "--destdir", tmp_path / "out")  # fmt: skip
    # 6 tokens with </s>; zz and q replaced, the literal <unk> is not counted: 2 / 6.
    assert f"[de] {tmp_path}/valid.de: 2 sents, 6 tokens, 33.3% replaced by <unk>" in log
    assert f"[en] {tmp_path}/train.en: 2 sents, 4 tokens, 0.0% replaced by <unk>" in log


def test_workers_give_identical_files(tmp_path, corpus, small_ranges):
    outs = []
    for workers in (1, 2, 3):
        out = tmp_path / f"out{workers}"
        run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--validpref",
            corpus["valid"], "--destdir", out, "--workers", workers)  # fmt: skip
        outs.append({name: (out / name).read_bytes() for name in listing(out)})
    assert outs[0] == outs[1] == outs[2]


def test_joined_dictionary(tmp_path, corpus):
    out = tmp_path / "out"
    run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--joined-dictionary",
        "--destdir", out)  # fmt: skip
    text, index, _ = ref_dictionary([f"{corpus['train']}.de", f"{corpus['train']}.en"])
    assert (out / "dict.de.txt").read_text(encoding="utf-8") == text
    assert (out / "dict.en.txt").read_text(encoding="utf-8") == text
    assert (out / "train.de-en.en.bin").read_bytes() == ref_binarize(
        f"{corpus['train']}.en", index
    )[0]


def test_srcdict_reuse_and_thresholds(tmp_path, corpus):
    out = tmp_path / "out"
    run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--destdir", out,
        "--thresholdsrc", 150, "--nwordstgt", 7, "--padding-factor", 4)  # fmt: skip
    text_de, index_de, _ = ref_dictionary([f"{corpus['train']}.de"], threshold=150, padding=4)
    text_en, _, _ = ref_dictionary([f"{corpus['train']}.en"], nwords=7, padding=4)
    assert (out / "dict.de.txt").read_text(encoding="utf-8") == text_de
    assert (out / "dict.en.txt").read_text(encoding="utf-8") == text_en
    data, _ = ref_binarize(f"{corpus['train']}.de", index_de)
    assert (out / "train.de-en.de.bin").read_bytes() == data

    again = tmp_path / "again"
    run("-s", "de", "-t", "en", "--validpref", corpus["valid"], "--destdir", again,
        "--srcdict", out / "dict.de.txt", "--tgtdict", out / "dict.en.txt")  # fmt: skip
    assert (again / "dict.de.txt").read_bytes() == (out / "dict.de.txt").read_bytes()
    assert (again / "valid.de-en.de.bin").read_bytes() == ref_binarize(
        f"{corpus['valid']}.de", index_de
    )[0]
    assert not (again / "train.de-en.de.bin").exists()


def test_dict_only(tmp_path, corpus):
    out = tmp_path / "out"
    log = run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--dict-only",
              "--destdir", out)  # fmt: skip
    assert listing(out) == ["dict.de.txt", "dict.en.txt"]
    assert "sents" not in log


def test_only_source_names(tmp_path, corpus):
    mono = tmp_path / "mono"
    mono.mkdir()
    (mono / "train").write_text("a b\n\nc a\n")  # empty lines are fine for monolingual data
    (mono / "valid").write_text("a\n")
    out = tmp_path / "lm"
    run("--only-source", "--trainpref", mono / "train", "--validpref", mono / "valid",
        "--destdir", out)  # fmt: skip
    assert listing(out) == ["dict.txt", "train.bin", "train.idx", "valid.bin", "valid.idx"]
    ds = MMapIndexedDataset(str(out / "train"))
    assert [ds[i].tolist() for i in range(len(ds))] == [[4, 5, 2], [2], [6, 4, 2]]
    assert Dictionary.load(str(out / "dict.txt")).symbols[4:7] == ["a", "b", "c"]

    out = tmp_path / "lm-de"
    run("--only-source", "-s", "de", "--trainpref", corpus["train"], "--destdir", out)
    assert listing(out) == ["dict.de.txt", "train.de-None.de.bin", "train.de-None.de.idx"]


def test_sentencepiece(tmp_path, corpus):
    spm = pytest.importorskip("sentencepiece")
    out = tmp_path / "out"
    expect_failure(ConfigError, r"--bpe-vocab-size 5000 is too large .* <= \d+", out, "-s", "de",
                   "-t", "en", "--trainpref", corpus["train"], "--bpe", "sentencepiece",
                   "--bpe-vocab-size", 5000)  # fmt: skip
    run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--validpref", corpus["valid"],
        "--destdir", out, "--bpe", "sentencepiece", "--bpe-vocab-size", 30)  # fmt: skip
    assert {"sentencepiece.model", "sentencepiece.vocab"} <= set(listing(out))
    assert not any(name.startswith(".") for name in listing(out))
    model = spm.SentencePieceProcessor(model_file=str(out / "sentencepiece.model"))
    d = Dictionary.load(str(out / "dict.de.txt"))
    ds = MMapIndexedDataset(str(out / "valid.de-en.de"))
    lines = Path(f"{corpus['valid']}.de").read_text(encoding="utf-8").splitlines()
    for i in (0, 7, 39):
        assert d.string(ds[i], bpe_symbol="sentencepiece") == " ".join(lines[i].split())
        pieces = model.encode(lines[i], out_type=str)
        assert ds[i].tolist() == [d.index(p) for p in pieces] + [d.eos()]


def test_sentencepiece_missing_says_how_to_install(tmp_path, corpus, monkeypatch):
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    with pytest.raises(ConfigError, match="pip install sentencepiece"):
        run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--destdir", tmp_path / "o",
            "--bpe", "sentencepiece")  # fmt: skip
    assert not (tmp_path / "o").exists()


# -- failures leave nothing behind -------------------------------------------------------------
def expect_failure(error, match, destdir, *args):
    before = listing(destdir) if destdir.is_dir() else None
    with pytest.raises(error) as err:
        run(*args, "--destdir", destdir)
    assert err.match(match)
    assert "\n" not in str(err.value)
    assert (listing(destdir) if destdir.is_dir() else None) == before
    return str(err.value)


def test_missing_input_file(tmp_path, corpus):
    expect_failure(DataError, r"--validpref: cannot read .*nowhere\.de: no such file",
                   tmp_path / "out", "-s", "de", "-t", "en", "--trainpref", corpus["train"],
                   "--validpref", tmp_path / "nowhere")  # fmt: skip


def test_line_count_mismatch(tmp_path):
    (tmp_path / "train.de").write_text("a\nb\nc\n")
    (tmp_path / "train.en").write_text("a\nb\n")
    msg = expect_failure(DataError, "lines", tmp_path / "out", "-s", "de", "-t", "en",
                         "--trainpref", tmp_path / "train")  # fmt: skip
    assert msg == f"{tmp_path}/train.de has 3 lines but {tmp_path}/train.en has 2"


def test_empty_line_in_parallel_corpus(tmp_path, corpus):
    (tmp_path / "valid.de").write_text("a\n\nb\n")
    (tmp_path / "valid.en").write_text("a\nb\nc\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    expect_failure(DataError, r"valid\.de line 2: empty line", out, "-s", "de", "-t", "en",
                   "--trainpref", corpus["train"], "--validpref", tmp_path / "valid")  # fmt: skip
    assert listing(out) == ["keep.txt"]


def test_non_utf8_line(tmp_path, corpus):
    (tmp_path / "train.de").write_bytes(b"a b\nc\nd \xe9t\xe9\n")
    (tmp_path / "train.en").write_text("a\nb\nc\n")
    expect_failure(DataError, r"train\.de line 3: not valid UTF-8", tmp_path / "out", "-s",
                   "de", "-t", "en", "--trainpref", tmp_path / "train")  # fmt: skip


def test_malformed_srcdict(tmp_path, corpus):
    (tmp_path / "dict.de.txt").write_text("a 1\nb 2\nbroken\n")
    expect_failure(DataError, r"dict\.de\.txt line 3: expected '<token> <count>', got 'broken'",
                   tmp_path / "out", "-s", "de", "-t", "en", "--trainpref", corpus["train"],
                   "--srcdict", tmp_path / "dict.de.txt")  # fmt: skip


def test_existing_dictionary_and_bad_options(tmp_path, corpus):
    out = tmp_path / "out"
    run("-s", "de", "-t", "en", "--trainpref", corpus["train"], "--dict-only", "--destdir", out)
    expect_failure(ConfigError, "dict.de.txt already exists: reuse it with --srcdict", out,
                   "-s", "de", "-t", "en", "--trainpref", corpus["train"])  # fmt: skip
    new = tmp_path / "new"
    expect_failure(ConfigError, "--source-lang and --target-lang are required", new,
                   "--trainpref", corpus["train"])  # fmt: skip
    expect_failure(ConfigError, "--trainpref is required", new, "-s", "de", "-t", "en")
    expect_failure(ConfigError, "--workers 0 must be at least 1", new, "-s", "de", "-t", "en",
                   "--trainpref", corpus["train"], "--workers", 0)  # fmt: skip
    expect_failure(SeqcoreError, "--joined-dictionary", new, "--only-source",
                   "--joined-dictionary", "--trainpref", corpus["train"])  # fmt: skip
    (tmp_path / "afile").write_text("x")
    expect_failure(ConfigError, "--destdir .*afile exists and is not a directory",
                   tmp_path / "afile", "-s", "de", "-t", "en",
                   "--trainpref", corpus["train"])  # fmt: skip


def test_empty_corpus(tmp_path):
    (tmp_path / "train.de").write_text("")
    (tmp_path / "train.en").write_text("")
    log = run("-s", "de", "-t", "en", "--trainpref", tmp_path / "train", "--destdir",
              tmp_path / "out")  # fmt: skip
    assert "[de] " + str(tmp_path / "train.de") + ": 0 sents, 0 tokens, 0.0% replaced" in log
    ds = MMapIndexedDataset(str(tmp_path / "out" / "train.de-en.de"))
    assert len(ds) == 0
    assert (tmp_path / "out" / "dict.de.txt").read_text() == "".join(
        f"madeupword000{i} 0\n" for i in range(4)
    )


# -- the library: seqcore.data.preprocess called in-process --------------------------------------
def test_run_preprocess_returns_what_it_wrote(tmp_path, corpus):
    out = tmp_path / "lib"
    lines = []
    opts = PreprocessOptions(source_lang="de", target_lang="en", trainpref=corpus["train"],
                             validpref=corpus["valid"], destdir=str(out),
                             thresholdtgt=2, nwordssrc=10)  # fmt: skip
    result = run_preprocess(opts, echo=lines.append)
    refs = {
        "de": ref_dictionary([f"{corpus['train']}.de"], nwords=10),
        "en": ref_dictionary([f"{corpus['train']}.en"], threshold=2),
    }
    assert set(result.dictionaries) == {"de", "en"}
    for lang, (text, index, size) in refs.items():
        assert len(result.dictionaries[lang]) == size
        assert (out / f"dict.{lang}.txt").read_text(encoding="utf-8") == text
        for split in ("train", "valid"):
            stats = result.splits[split, lang]
            words = Path(f"{corpus[split]}.{lang}").read_text(encoding="utf-8").split("\n")[:-1]
            tokens = [w for line in words for w in line.split()]
            assert stats.nseq == len(words)
            assert stats.ntok == len(tokens) + len(words)  # </s> ends every sentence
            assert stats.nreplaced == sum(w not in index for w in tokens)
            data, idx = ref_binarize(f"{corpus[split]}.{lang}", index)
            assert (out / f"{split}.de-en.{lang}.bin").read_bytes() == data
            assert (out / f"{split}.de-en.{lang}.idx").read_bytes() == idx
    assert lines[0] == f"[de] Dictionary: {refs['de'][2]} types"
    assert lines[-1] == f"Wrote preprocessed data to {out}"
    assert len(lines) == 2 + 2 * 2 + 1  # per side: its dictionary and its two splits


def test_run_preprocess_prints_nothing_but_through_echo(tmp_path, corpus, capsys):
    opts = PreprocessOptions(source_lang="de", target_lang="en", trainpref=corpus["train"],
                             destdir=str(tmp_path / "quiet"), dict_only=True)  # fmt: skip
    result = run_preprocess(opts, echo=lambda line: None)
    assert result.splits == {}  # dict_only binarizes nothing
    assert sorted(p.name for p in (tmp_path / "quiet").iterdir()) == ["dict.de.txt", "dict.en.txt"]
    assert capsys.readouterr() == ("", "")


def test_monolingual_text_without_a_language(tmp_path):
    (tmp_path / "train").write_text("a b\n\nb c c\n", encoding="utf-8")  # empty lines are kept
    out = tmp_path / "lm"
    result = run_preprocess(
        PreprocessOptions(
            only_source=True, trainpref=str(tmp_path / "train"), destdir=str(out), padding_factor=1
        ),  # fmt: skip
        echo=lambda line: None,
    )
    assert listing(out) == ["dict.txt", "train.bin", "train.idx"]
    assert (out / "dict.txt").read_text() == "b 2\nc 2\na 1\n"  # by count, then by word
    ds = MMapIndexedDataset(str(out / "train"))
    d = result.dictionaries[None]
    assert [ds[i].tolist() for i in range(len(ds))] == [
        [d.index("a"), d.index("b"), d.eos()], [d.eos()], [d.index("b"), d.index("c"),
                                                           d.index("c"), d.eos()]]  # fmt: skip


def test_errors_come_before_any_output(tmp_path, corpus):
    out = tmp_path / "never"
    opts = PreprocessOptions(source_lang="de", target_lang="en", trainpref=corpus["train"],
                             validpref=str(tmp_path / "nowhere"), destdir=str(out))  # fmt: skip
    with pytest.raises(DataError, match=r"^--validpref: cannot read .*nowhere\.de: no such file$"):
        run_preprocess(opts, echo=lambda line: None)
    assert not out.exists()


def test_every_option_is_a_flag_of_the_command():
    """The command's flags are derived from PreprocessOptions, never written twice."""
    help_text = CliRunner().invoke(preprocess, ["--help"], terminal_width=200).output
    for f in dataclasses.fields(PreprocessOptions):
        assert "--" + f.name.replace("_", "-") in help_text, f.name
    assert "-s, --source-lang" in help_text and "-t, --target-lang" in help_text
