"""A tiny task and batches for the checks: two small dictionaries, a few sentence pairs,
collated as the translation task does (source left-padded, target right-padded,
``prev_output_tokens`` the target shifted right behind ``</s>``)."""

from __future__ import annotations

from typing import Any

import torch

from seqcore.testing.data import dictionary

SOURCE = ["a b c d", "b c", "d d a", "c a b b a", "a"]
TARGET = ["d c b a", "c b", "a d d", "a b b a c", "a"]


class TinyTask:
    """What ``build_model(cfg, task)`` and ``Criterion(cfg, task)`` read from a task: the
    dictionaries (``dictionary`` too, as language-modelling tasks name theirs)."""

    def __init__(self) -> None:
        self.source_dictionary = dictionary(SOURCE)
        self.target_dictionary = dictionary(TARGET)
        self.dictionary = self.target_dictionary

    def max_positions(self) -> tuple[int, int]:
        return (1024, 1024)


def translation_batch(task: TinyTask) -> dict[str, Any]:
    src_dict, tgt_dict = task.source_dictionary, task.target_dictionary
    src = [src_dict.encode_line(s, add_if_not_exist=False).long() for s in SOURCE]
    tgt = [tgt_dict.encode_line(t, add_if_not_exist=False).long() for t in TARGET]
    s_len, t_len = max(len(s) for s in src), max(len(t) for t in tgt)
    src_tokens = torch.full((len(src), s_len), src_dict.pad(), dtype=torch.long)
    target = torch.full((len(tgt), t_len), tgt_dict.pad(), dtype=torch.long)
    prev = torch.full((len(tgt), t_len), tgt_dict.pad(), dtype=torch.long)
    for i, (s, t) in enumerate(zip(src, tgt)):
        src_tokens[i, s_len - len(s) :] = s
        target[i, : len(t)] = t
        prev[i, 0] = tgt_dict.eos()
        prev[i, 1 : len(t)] = t[:-1]
    return {
        "id": torch.arange(len(src)),
        "net_input": {
            "src_tokens": src_tokens,
            "src_lengths": torch.tensor([len(s) for s in src]),
            "prev_output_tokens": prev,
        },
        "target": target,
        "ntokens": int(target.ne(tgt_dict.pad()).sum()),
        "nsentences": len(src),
    }


def lm_batch(task: TinyTask) -> dict[str, Any]:
    """Language-model batch: the target is the input shifted left by one token."""
    d = task.target_dictionary
    lines = [d.encode_line(t, add_if_not_exist=False).long() for t in TARGET]
    length = max(len(x) for x in lines)
    tokens = torch.full((len(lines), length), d.pad(), dtype=torch.long)
    target = torch.full((len(lines), length), d.pad(), dtype=torch.long)
    for i, line in enumerate(lines):
        tokens[i, 0] = d.eos()
        tokens[i, 1 : len(line)] = line[:-1]
        target[i, : len(line)] = line
    return {
        "id": torch.arange(len(lines)),
        "net_input": {"src_tokens": tokens, "src_lengths": torch.tensor([len(x) for x in lines])},
        "target": target,
        "ntokens": int(target.ne(d.pad()).sum()),
        "nsentences": len(lines),
    }
