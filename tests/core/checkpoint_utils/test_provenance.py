"""What a checkpoint records about where it came from: the version and format, the resolved
configuration with each component's origin, and dictionary fingerprints that catch a data folder
with other dictionaries even when their sizes agree."""

import copy as copying
from types import SimpleNamespace

import pytest
import torch

from seqcore import __version__
from seqcore.checkpoint_utils import (
    FORMAT,
    check_dictionaries,
    dictionary_fingerprints,
    provenance,
)
from seqcore.errors import CheckpointError
from seqcore.testing.data import dictionary


def _task(source: list[str], target: list[str], data: str = "data-bin") -> SimpleNamespace:
    return SimpleNamespace(
        source_dictionary=dictionary(source),
        target_dictionary=dictionary(target),
        cfg=SimpleNamespace(data=data),
    )


def test_the_entries_are_plain_data_that_load_without_pickled_objects(trained):
    path, _, cfg, task, _ = trained
    loaded = torch.load(path, weights_only=True)
    assert loaded["seqcore"] == {"version": __version__, "format": FORMAT}
    assert loaded["cfg"] == cfg.as_dict()
    assert loaded["cfg"]["origins"]["model"]["name"] == "seqcore-plugin-transformer"
    assert loaded["dictionaries"] == dictionary_fingerprints(task)
    assert set(provenance(cfg, task)) == {"seqcore", "cfg", "dictionaries"}


def test_fingerprints_differ_for_the_same_symbols_in_another_order():
    one = _task(["a b c"], ["x y"])
    other = _task(["c c b a"], ["x y"])  # symbols by count: c comes first
    assert len(one.source_dictionary) == len(other.source_dictionary)
    prints, others = dictionary_fingerprints(one), dictionary_fingerprints(other)
    assert set(prints) == {"source", "target"}
    assert prints["target"] == others["target"] and prints["source"] != others["source"]


def test_a_data_folder_with_another_dictionary_names_the_side_the_folder_and_the_fix():
    trained_on = _task(["a b c"], ["x y"])
    state = {"dictionaries": dictionary_fingerprints(trained_on)}
    check_dictionaries(state, _task(["a b c"], ["x y"]), "model.pt")  # the same: no error
    with pytest.raises(CheckpointError) as e:
        check_dictionaries(state, _task(["a b c"], ["y y x"], data="elsewhere"), "model.pt")
    assert str(e.value) == (
        "the target dictionary of elsewhere is not the one model.pt was trained with; use the "
        "data folder the model was trained on"
    )


def test_a_checkpoint_without_fingerprints_is_not_checked_here(trained):
    _, state, _, _, _ = trained
    older = copying.copy(state)
    del older["dictionaries"]
    check_dictionaries(older, _task(["q r s"], ["t u"]), "old.pt")  # the shapes are checked
