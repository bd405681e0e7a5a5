"""The translation task end to end on tiny data folders binarized with seqcore's writer."""

import os

import numpy as np
import pytest
import torch

from seqcore.config import make_config
from seqcore.data.binarize import binarize_file
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDatasetBuilder
from seqcore.errors import ConfigError, DataError
from seqcore.registry import TASKS
from seqcore.tasks.translation import TranslationConfig, TranslationTask

DE = ["ein haus", "das ist ein kleines haus", "hallo", "wir gehen nach hause heute abend", "ja"]
EN = ["a house", "this is a small house", "hello", "we go home tonight", "yes"]


def build_dict(lines):
    d = Dictionary()
    for line in lines:
        for w in line.split():
            d.add_symbol(w)
    d.finalize(padding_factor=8)
    return d


def write_folder(folder, src="de", tgt="en", pair=None, splits=("train", "valid"), data=None):
    """A fairseq-preprocess style folder: dict.<lang>.txt and <split>.<pair>.<lang>.bin/.idx."""
    data = data or {"de": DE, "en": EN}
    pair = pair or f"{src}-{tgt}"
    os.makedirs(folder, exist_ok=True)
    dicts = {}
    for lang in (src, tgt):
        dicts[lang] = build_dict(data[lang])
        dicts[lang].save(os.path.join(folder, f"dict.{lang}.txt"))
        for split in splits:
            text = os.path.join(folder, f"{split}.{lang}.txt")
            with open(text, "w", encoding="utf-8") as f:
                f.write("\n".join(data[lang]) + "\n")
            prefix = os.path.join(folder, f"{split}.{pair}.{lang}")
            binarize_file(text, dicts[lang], prefix + ".bin", prefix + ".idx")
            os.remove(text)
    return dicts


def config(data, **values):
    return make_config(TranslationConfig, "translation", {"data": str(data), **values})


def test_registered():
    entry = TASKS.get("translation")
    assert entry.obj is TranslationTask and entry.config_class is TranslationConfig


def test_end_to_end_batches_match_the_text(tmp_path):
    dicts = write_folder(tmp_path)
    cfg = config(tmp_path)
    task = TranslationTask.setup_task(cfg)
    assert (cfg.source_lang, cfg.target_lang) == ("de", "en")  # inferred from the file names
    assert task.source_dictionary == dicts["de"] and task.target_dictionary == dicts["en"]
    assert task.max_positions() == (1024, 1024)
    task.load_dataset("train")
    ds = task.dataset("train")
    assert len(ds) == len(DE)
    itr = task.get_batch_iterator(ds, max_tokens=1000, max_positions=task.max_positions())
    batches = list(itr.next_epoch_itr())
    assert sum(b["nsentences"] for b in batches) == len(DE)
    pad, eos = dicts["de"].pad(), dicts["de"].eos()
    for batch in batches:
        for row, i in enumerate(batch["id"].tolist()):
            src = dicts["de"].encode_line(DE[i], add_if_not_exist=False).long()
            tgt = dicts["en"].encode_line(EN[i], add_if_not_exist=False).long()
            src_row = batch["net_input"]["src_tokens"][row]
            assert src_row[src_row.ne(pad)].tolist() == src.tolist()
            assert src_row[-1] == eos  # left-padded source
            tgt_row = batch["target"][row]
            assert tgt_row[: len(tgt)].tolist() == tgt.tolist()
            prev = batch["net_input"]["prev_output_tokens"][row]
            assert prev[: len(tgt)].tolist() == [eos] + tgt[:-1].tolist()


def test_reverse_direction_and_explicit_languages(tmp_path):
    write_folder(tmp_path)  # files named de-en
    task = TranslationTask.setup_task(config(tmp_path, source_lang="en", target_lang="de"))
    task.load_dataset("valid")
    item = task.dataset("valid")[2]
    assert task.source_dictionary.string(item["source"]) == "hello"
    assert task.target_dictionary.string(item["target"]) == "hallo"
    # Only one language given: the other comes from the pair in the folder.
    task = TranslationTask.setup_task(config(tmp_path, target_lang="de"))
    assert (task.cfg.source_lang, task.cfg.target_lang) == ("en", "de")


def test_folder_for_another_pair_names_folder_and_pairs(tmp_path):
    write_folder(tmp_path)
    with pytest.raises(DataError) as e:
        TranslationTask.setup_task(config(tmp_path, source_lang="fr", target_lang="en"))
    assert str(tmp_path) in str(e.value) and "de-en" in str(e.value)
    with pytest.raises(DataError) as e:
        TranslationTask.setup_task(config(tmp_path, source_lang="fr"))
    assert str(tmp_path) in str(e.value) and "de-en" in str(e.value)
    # Dictionaries present but no binarized pair for them.
    d = Dictionary()
    d.save(os.path.join(tmp_path, "dict.fr.txt"))
    task = TranslationTask.setup_task(config(tmp_path, source_lang="fr", target_lang="en"))
    with pytest.raises(DataError) as e:
        task.load_dataset("train")
    msg = str(e.value)
    assert str(tmp_path) in msg and "fr-en" in msg and "de-en" in msg and "\n" not in msg


def test_missing_split_and_missing_folder(tmp_path):
    write_folder(tmp_path, splits=("train",))
    task = TranslationTask.setup_task(config(tmp_path))
    with pytest.raises(DataError, match="no valid data for de-en"):
        task.load_dataset("valid")
    with pytest.raises(DataError, match="does not exist"):
        TranslationTask.setup_task(config(tmp_path / "nope"))
    with pytest.raises(ConfigError):
        TranslationTask.setup_task(config(""))


def test_several_pairs_need_explicit_languages(tmp_path):
    write_folder(tmp_path)
    write_folder(tmp_path, src="de", tgt="fr", data={"de": DE, "fr": EN})
    with pytest.raises(ConfigError, match="--source-lang and --target-lang"):
        TranslationTask.setup_task(config(tmp_path))
    task = TranslationTask.setup_task(config(tmp_path, source_lang="de", target_lang="fr"))
    task.load_dataset("train")
    assert len(task.dataset("train")) == len(DE)


def test_token_ids_beyond_the_dictionary(tmp_path):
    write_folder(tmp_path)
    # Overwrite the English training side with ids from a bigger vocabulary.
    prefix = os.path.join(tmp_path, "train.de-en.en")
    builder = MMapIndexedDatasetBuilder(prefix + ".bin", dtype=np.uint16)
    for _ in EN:
        builder.add_item([4, 500, 2])
    builder.finalize(prefix + ".idx")
    task = TranslationTask.setup_task(config(tmp_path))
    with pytest.raises(DataError) as e:
        task.load_dataset("train")
    assert "train.de-en.en.bin" in str(e.value) and "500" in str(e.value)


def test_colon_separated_folders_cycle_per_epoch(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_folder(a)
    write_folder(b, data={"de": DE[:2], "en": EN[:2]})
    # Dictionaries come from the first folder; b just has fewer sentences.
    task = TranslationTask.setup_task(config(f"{a}:{b}"))
    sizes = {}
    for epoch in (1, 2, 3):
        task.load_dataset("train", epoch=epoch)
        sizes[epoch] = len(task.dataset("train"))
    assert sizes == {1: len(DE), 2: 2, 3: len(DE)}
    task.load_dataset("valid", epoch=2)  # valid always from the first folder
    assert len(task.dataset("valid")) == len(DE)


def test_colon_separated_folders_cycle_for_another_train_subset(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_folder(a, splits=("mytrain", "valid"))
    write_folder(b, splits=("mytrain",), data={"de": DE[:2], "en": EN[:2]})
    task = TranslationTask.setup_task(config(f"{a}:{b}", train_subset="mytrain"))
    task.load_dataset("mytrain", epoch=2)
    assert len(task.dataset("mytrain")) == 2
    task.load_dataset("valid", epoch=2)
    assert len(task.dataset("valid")) == len(DE)


def test_train_subset_flag_reaches_the_task():
    """``seqcore train --train-subset X`` is one option feeding the trainer and the task."""
    from seqcore.cli.train import train_command

    cfg = train_command.resolve_args(["DATA", "-a", "transformer", "--optimizer", "sgd"])
    assert cfg.task.train_subset == cfg.dataset.train_subset == "train"
    cfg = train_command.resolve_args(
        ["DATA", "-a", "transformer", "--optimizer", "sgd", "--train-subset", "mytrain"]
    )
    assert cfg.task.train_subset == cfg.dataset.train_subset == "mytrain"


def test_combine_with_upsampled_primary(tmp_path):
    write_folder(tmp_path, splits=("train", "train1"))
    task = TranslationTask.setup_task(config(tmp_path, upsample_primary=3))
    task.load_dataset("train", combine=True)
    ds = task.dataset("train")
    assert len(ds) == 4 * len(DE)
    assert torch.equal(ds[len(DE)]["source"], ds[0]["source"])
    assert ds.src_sizes.tolist() == ds.src_sizes[: len(DE)].tolist() * 4


def test_truncate_source(tmp_path):
    write_folder(tmp_path)
    task = TranslationTask.setup_task(
        config(tmp_path, truncate_source=True, max_source_positions=3)
    )
    task.load_dataset("train")
    ds = task.dataset("train")
    eos = task.source_dictionary.eos()
    item = ds[3]["source"]  # "wir gehen nach hause heute abend </s>"
    full = task.source_dictionary.encode_line(DE[3], add_if_not_exist=False).long()
    assert item.tolist() == full[:2].tolist() + [eos]
    assert ds.src_sizes.max() == 3


def test_config_validation():
    with pytest.raises(ConfigError, match="--upsample-primary"):
        config("x", upsample_primary=0)
