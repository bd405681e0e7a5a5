"""Dictionaries, a task and batches for the LSTM plug-in's tests."""

from __future__ import annotations

import types

import pytest
import torch

import seqcore_lstm  # noqa: F401  (registers the models and architectures)
from seqcore.data import Dictionary


class Task:
    """The two dictionaries a model's build_model reads from its task."""

    def __init__(self, source_dictionary, target_dictionary) -> None:
        self.source_dictionary = source_dictionary
        self.target_dictionary = target_dictionary


def make_dictionary(words: str) -> Dictionary:
    d = Dictionary()
    for w in words.split():
        d.add_symbol(w)
    return d


SOURCE = ["ich bin ein berliner", "das ist gut", "guten morgen", "wir sehen uns morgen"]
TARGET = ["i am a berliner", "that is good", "good morning", "see you tomorrow"]


def collate(src_lines, tgt_lines, src_dict, tgt_dict) -> dict:
    """A fairseq-style batch: source left-padded, target right-padded, prev_output_tokens the
    target with its final </s> moved to the front."""
    pad, eos = tgt_dict.pad(), tgt_dict.eos()
    src = [src_dict.encode_line(s).long() for s in src_lines]
    tgt = [tgt_dict.encode_line(t).long() for t in tgt_lines]
    s_len, t_len = max(len(s) for s in src), max(len(t) for t in tgt)
    src_tokens = torch.full((len(src), s_len), src_dict.pad(), dtype=torch.long)
    target = torch.full((len(tgt), t_len), pad, dtype=torch.long)
    prev = torch.full((len(tgt), t_len), pad, dtype=torch.long)
    for i, (s, t) in enumerate(zip(src, tgt)):
        src_tokens[i, s_len - len(s) :] = s
        target[i, : len(t)] = t
        prev[i, 0] = eos
        prev[i, 1 : len(t)] = t[:-1]
    return {
        "net_input": {
            "src_tokens": src_tokens,
            "src_lengths": torch.tensor([len(s) for s in src]),
            "prev_output_tokens": prev,
        },
        "target": target,
        "ntokens": int(target.ne(pad).sum()),
        "nsentences": len(src),
    }


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run several times faster on one thread than on a busy shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def src_dict() -> Dictionary:
    return make_dictionary(" ".join(SOURCE))


@pytest.fixture
def tgt_dict() -> Dictionary:
    return make_dictionary(" ".join(TARGET))


@pytest.fixture
def task(src_dict, tgt_dict) -> Task:
    return Task(src_dict, tgt_dict)


@pytest.fixture
def batch(src_dict, tgt_dict) -> dict:
    return collate(SOURCE, TARGET, src_dict, tgt_dict)


@pytest.fixture
def helpers():
    """The functions above, for tests that build their own dictionaries, tasks and batches."""
    return types.SimpleNamespace(make_dictionary=make_dictionary, Task=Task, collate=collate)
