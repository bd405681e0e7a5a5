"""The language_modeling task end to end on a tiny --only-source data folder."""

import os

import pytest

from seqcore.config import make_config
from seqcore.data.binarize import binarize_file
from seqcore.data.dictionary import Dictionary
from seqcore.errors import ConfigError, DataError
from seqcore.registry import TASKS
from seqcore.tasks.language_modeling import LanguageModelingConfig, LanguageModelingTask

TEXT = [
    "the cat sat on the mat",
    "a dog barked",
    "",
    "the end of the first document is above",
    "short",
    "one more sentence for the stream of tokens",
]


def write_folder(folder, splits=("train", "valid"), lines=TEXT):
    os.makedirs(folder, exist_ok=True)
    d = Dictionary()
    for line in lines:
        for w in line.split():
            d.add_symbol(w)
    d.finalize(padding_factor=8)
    d.save(os.path.join(folder, "dict.txt"))
    text = os.path.join(folder, "input.txt")
    with open(text, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    for split in splits:
        prefix = os.path.join(folder, split)
        binarize_file(text, d, prefix + ".bin", prefix + ".idx")
    os.remove(text)
    return d


def stream_of(d, lines=TEXT):
    ids = []
    for line in lines:
        ids += d.encode_line(line, add_if_not_exist=False).tolist()
    return ids


def config(data, **values):
    return make_config(LanguageModelingConfig, "language_modeling", {"data": str(data), **values})


def test_registered():
    entry = TASKS.get("language_modeling")
    assert entry.obj is LanguageModelingTask and entry.config_class is LanguageModelingConfig


@pytest.mark.parametrize("mode", ["none", "complete", "complete_doc", "eos"])
def test_batches_predict_the_next_token(tmp_path, mode):
    d = write_folder(tmp_path)
    task = LanguageModelingTask.setup_task(
        config(tmp_path, tokens_per_sample=8, sample_break_mode=mode)
    )
    assert task.source_dictionary == d and task.target_dictionary == d
    task.load_dataset("train")
    ds = task.dataset("train")
    stream = stream_of(d)
    eos, pad = d.eos(), d.pad()
    itr = task.get_batch_iterator(ds, max_tokens=64, max_positions=task.max_positions())
    targets = []
    for batch in itr.next_epoch_itr(shuffle=False):
        assert set(batch["net_input"]) == {"src_tokens", "src_lengths"}
        for row in range(batch["nsentences"]):
            n = int(batch["net_input"]["src_lengths"][row])
            src = batch["net_input"]["src_tokens"][row].tolist()
            tgt = batch["target"][row].tolist()
            assert src[n:] == [pad] * (len(src) - n) and tgt[n:] == [pad] * (len(tgt) - n)
            if mode == "none":  # (complete modes: a longer sentence is a block of its own)
                assert n <= 8
            targets.append((int(batch["id"][row]), src[:n], tgt[:n]))
    targets.sort()
    # Targets, in block order, are the token stream (complete_doc drops the empty line's </s>).
    positions = list(range(len(stream)))
    if mode == "complete_doc":
        del positions[len(stream_of(d, TEXT[:2]))]
    flat = [t for _, _, tgt in targets for t in tgt]
    assert flat == [stream[p] for p in positions]
    # Each source is its target shifted right by one position of the stream.
    shifted = [eos] + stream
    start = 0
    for _, src, tgt in targets:
        first = positions[start]
        assert src == shifted[first : first + len(tgt)]
        start += len(tgt)


def test_none_mode_blocks_have_tokens_per_sample(tmp_path):
    d = write_folder(tmp_path)
    task = LanguageModelingTask.setup_task(config(tmp_path, tokens_per_sample=5))
    task.load_dataset("valid")
    ds = task.dataset("valid")
    total = len(stream_of(d))
    assert ds.sizes.tolist() == [5] * (total // 5) + ([total % 5] if total % 5 else [])


def test_output_dictionary_size_maps_rare_targets_to_unk(tmp_path):
    d = write_folder(tmp_path)
    task = LanguageModelingTask.setup_task(
        config(tmp_path, output_dictionary_size=8, sample_break_mode="eos")
    )
    assert len(task.target_dictionary) == 8 and len(task.source_dictionary) == len(d)
    task.load_dataset("train")
    item = task.dataset("train")[0]
    words = d.encode_line(TEXT[0], add_if_not_exist=False).tolist()
    assert item["target"].tolist() == [w if w < 8 else d.unk() for w in words]
    assert item["source"].tolist() == [d.eos()] + words[:-1]


def test_add_bos_token(tmp_path):
    d = write_folder(tmp_path)
    task = LanguageModelingTask.setup_task(
        config(tmp_path, add_bos_token=True, sample_break_mode="eos")
    )
    task.load_dataset("train")
    item = task.dataset("train")[1]
    words = d.encode_line(TEXT[1], add_if_not_exist=False).tolist()
    assert item["source"].tolist() == [d.bos(), d.eos()] + words[:-1]
    assert item["target"].tolist() == [d.bos()] + words


def test_errors_name_the_folder(tmp_path):
    write_folder(tmp_path, splits=("train",))
    task = LanguageModelingTask.setup_task(config(tmp_path))
    with pytest.raises(DataError) as e:
        task.load_dataset("valid")
    assert str(tmp_path) in str(e.value) and "train" in str(e.value)
    other = tmp_path / "translation"
    other.mkdir()
    Dictionary().save(str(other / "dict.de.txt"))
    with pytest.raises(DataError, match="no dict.txt"):
        LanguageModelingTask.setup_task(config(other))
    with pytest.raises(ConfigError):
        LanguageModelingTask.setup_task(config(""))


def test_config_validation():
    with pytest.raises(ConfigError, match="--tokens-per-sample 2048 exceeds"):
        config("x", tokens_per_sample=2048)
    config("x", tokens_per_sample=2048, max_target_positions=2048)
    config("x", tokens_per_sample=2048, sample_break_mode="eos")


def test_epochs_cycle_through_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_folder(a)
    write_folder(b, lines=TEXT[:2])
    task = LanguageModelingTask.setup_task(config(f"{a}:{b}", sample_break_mode="eos"))
    lengths = []
    for epoch in (1, 2, 3):
        task.load_dataset("train", epoch=epoch)
        lengths.append(len(task.dataset("train")))
    assert lengths == [len(TEXT), 2, len(TEXT)]
