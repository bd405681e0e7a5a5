"""Language-model examples: a stream of sentences cut into blocks, and their batches.

:class:`TokenBlockDataset` sees a dataset of sentences (each ending in ``</s>``) as one token
stream and cuts it into blocks, as fairseq's ``--sample-break-mode``:

- ``none``: consecutive blocks of ``block_size`` tokens, crossing sentence boundaries (the last
  block is shorter);
- ``complete``: whole sentences packed greedily while the block stays within ``block_size``;
  a sentence longer than ``block_size`` is a block of its own;
- ``complete_doc``: as ``complete``, but a block never crosses a document boundary (an empty
  line, i.e. a sentence of ``document_sep_len`` tokens); separators themselves are dropped;
- ``eos``: one sentence per block.

With ``include_targets`` an item is ``(source, target)``: the target is the block and the source
is the same tokens shifted right by one, so ``target[t]`` is the token that follows
``source[t]`` in the stream; the first source token is the one before the block in its sentence,
or ``</s>`` at a sentence start (the end of the previous sentence), as fairseq does.

:class:`MonolingualDataset` turns blocks into fairseq's language-model batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from seqcore.data.data_utils import collate_tokens

BREAK_MODES = ("none", "complete", "complete_doc", "eos")


def block_slices(
    sizes: np.ndarray, block_size: int | None, break_mode: str, document_sep_len: int = 1
) -> np.ndarray:
    """``(num_blocks, 2)`` int64 ``[start, end)`` token offsets of the blocks in the stream."""
    sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    total = int(ends[-1]) if len(ends) else 0
    if break_mode == "eos":
        return np.stack([starts, ends], axis=1)
    if block_size is None or block_size <= 0:
        raise ValueError(f"break mode {break_mode!r} needs a positive block size")
    if break_mode == "none":
        begin = np.arange(0, total, block_size, dtype=np.int64)
        return np.stack([begin, np.minimum(begin + block_size, total)], axis=1)
    if break_mode == "complete":
        return _packed_slices(sizes, starts, ends, block_size, np.zeros(len(sizes), dtype=bool))
    if break_mode == "complete_doc":
        separator = sizes == document_sep_len
        slices = _packed_slices(sizes, starts, ends, block_size, separator)
        # fairseq keeps only blocks of more than one token (a lone </s> is an empty document).
        return slices[(slices[:, 1] - slices[:, 0]) > 1]
    raise ValueError(f"unknown break mode {break_mode!r}; choose from {', '.join(BREAK_MODES)}")


def _packed_slices(
    sizes: np.ndarray, starts: np.ndarray, ends: np.ndarray, block_size: int, separator: np.ndarray
) -> np.ndarray:
    """Greedy packing of whole sentences; ``separator`` sentences end a block and are skipped.

    ``nxt[i]`` (where the next block starts when one starts at sentence ``i``) is computed for all
    sentences at once with ``searchsorted``; the loop then only hops from block to block.
    """
    n = len(sizes)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    # Sentences that fit: those ending within start + block_size ...
    fit = np.searchsorted(ends, starts + block_size, side="right")
    # ... but at least up to and including the first non-empty sentence (fairseq always takes
    # one sentence into an empty block, and empty sentences ride along for free).
    nxt = np.maximum(fit, np.minimum(_next_true(sizes > 0) + 1, n))
    # A separator stops a block before it (documents do not mix).
    nxt = np.minimum(nxt, _next_true(separator))

    nxt_list = nxt.tolist()
    sep_list = separator.tolist()
    out: list[int] = []
    i = 0
    while i < n:
        if sep_list[i]:
            i += 1
            continue
        j = nxt_list[i]
        out.append(i)
        out.append(j)
        i = j
    pairs = np.asarray(out, dtype=np.int64).reshape(-1, 2)
    slices = np.stack([starts[pairs[:, 0]], ends[pairs[:, 1] - 1]], axis=1)
    return slices[slices[:, 1] > slices[:, 0]]


def _next_true(mask: np.ndarray) -> np.ndarray:
    """For each ``i``, the first ``j >= i`` where ``mask`` is true (``len(mask)`` if none)."""
    n = len(mask)
    where = np.where(mask, np.arange(n), n)
    return np.minimum.accumulate(where[::-1])[::-1]


class TokenBlockDataset(torch.utils.data.Dataset):
    """Blocks of a sentence dataset's token stream (see the module docstring)."""

    def __init__(
        self,
        dataset: Any,
        sizes: Any,
        block_size: int | None,
        pad: int,
        eos: int,
        break_mode: str = "none",
        include_targets: bool = True,
        document_sep_len: int = 1,
    ) -> None:
        if break_mode not in BREAK_MODES:
            raise ValueError(f"unknown break mode {break_mode!r}; choose from {BREAK_MODES}")
        sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
        if len(sizes) != len(dataset):
            raise ValueError(f"{len(sizes)} sizes for a dataset of {len(dataset)} sentences")
        self.dataset = dataset
        self.pad = pad
        self.eos = eos
        self.include_targets = include_targets
        self.break_mode = break_mode
        self.slice_indices = block_slices(sizes, block_size, break_mode, document_sep_len)
        self.sizes = self.slice_indices[:, 1] - self.slice_indices[:, 0]
        # For each block: first sentence, offset of the block in it, last sentence.
        sentence_ends = np.cumsum(sizes)
        first = np.searchsorted(sentence_ends, self.slice_indices[:, 0], side="right")
        last = np.searchsorted(sentence_ends, self.slice_indices[:, 1] - 1, side="right")
        first = np.minimum(first, max(len(sizes) - 1, 0))
        offset = (
            self.slice_indices[:, 0] - (sentence_ends[first] - sizes[first])
            if len(sizes)
            else first
        )
        self.block_to_dataset_index = np.stack([first, offset, np.maximum(last, first)], axis=1)

    def __len__(self) -> int:
        return len(self.slice_indices)

    def __getitem__(self, index: int) -> Any:
        first, offset, last = (int(x) for x in self.block_to_dataset_index[index])
        length = int(self.sizes[index])
        if first == last:
            buffer = self.dataset[first]
        else:
            buffer = torch.cat([self.dataset[i] for i in range(first, last + 1)])
        buffer = buffer.long()
        item = buffer[offset : offset + length]
        if not self.include_targets:
            return item
        if length == 0:  # an empty sentence in "eos" mode
            return item, item
        if offset == 0:
            source = torch.cat([item.new_tensor([self.eos]), buffer[: length - 1]])
        else:
            source = buffer[offset - 1 : offset + length - 1]
        return source, item


class MonolingualDataset(torch.utils.data.Dataset):
    """Language-model examples ``{"id", "source", "target"}`` from ``(source, target)`` blocks.

    Batches: ``net_input = {src_tokens, src_lengths}`` (right-padded) and ``target``. Target ids
    outside a smaller output dictionary (``--output-dictionary-size``) become ``<unk>``.
    ``add_bos_token`` prepends ``<s>`` to both the source and the target (as fairseq does).
    """

    def __init__(
        self,
        dataset: Any,
        sizes: Any,
        src_vocab: Any,
        tgt_vocab: Any = None,
        shuffle: bool = True,
        add_bos_token: bool = False,
    ) -> None:
        self.dataset = dataset
        self.sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
        self.vocab = src_vocab
        self.tgt_vocab = tgt_vocab if tgt_vocab is not None else src_vocab
        self.shuffle = shuffle
        self.add_bos_token = add_bos_token

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = int(index)
        item = self.dataset[index]
        if isinstance(item, tuple):
            source, target = item
        else:
            source, target = item, None
        if target is not None and len(self.tgt_vocab) < len(self.vocab):
            target = target.masked_fill(target >= len(self.tgt_vocab), self.tgt_vocab.unk())
        if self.add_bos_token:
            source = torch.cat([source.new_tensor([self.vocab.bos()]), source])
            if target is not None:
                target = torch.cat([target.new_tensor([self.tgt_vocab.bos()]), target])
        return {"id": index, "source": source, "target": target}

    def collater(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """fairseq's language-model batch dict; ``{}`` for an empty list (a dummy batch)."""
        if len(samples) == 0:
            return {}
        pad, eos = self.vocab.pad(), self.vocab.eos()
        src_tokens = collate_tokens([s["source"] for s in samples], pad, eos, left_pad=False)
        if samples[0]["target"] is not None:
            target = collate_tokens([s["target"] for s in samples], pad, eos, left_pad=False)
        else:
            target = src_tokens
        return {
            "id": torch.tensor([s["id"] for s in samples], dtype=torch.long),
            "nsentences": len(samples),
            "ntokens": sum(len(s["source"]) for s in samples),
            "net_input": {
                "src_tokens": src_tokens,
                "src_lengths": torch.tensor([len(s["source"]) for s in samples], dtype=torch.long),
            },
            "target": target,
        }

    def num_tokens(self, index: int) -> int:
        return int(self.sizes[index])

    def num_tokens_vec(self, indices: np.ndarray) -> np.ndarray:
        return self.sizes[indices]

    def size(self, index: int) -> int:
        return int(self.sizes[index])

    def ordered_indices(self) -> np.ndarray:
        """Indices by block length; ties in a random order (seeded by the batch iterator)."""
        if self.shuffle:
            indices = np.random.permutation(len(self)).astype(np.int64)
        else:
            indices = np.arange(len(self), dtype=np.int64)
        return indices[np.argsort(self.sizes[indices], kind="mergesort")]

    def filter_indices_by_size(
        self, indices: np.ndarray, max_sizes: Any
    ) -> tuple[np.ndarray, list[int]]:
        """Split ``indices`` into blocks within ``max_sizes`` (an int or a tuple) and the rest."""
        indices = np.asarray(indices, dtype=np.int64)
        if isinstance(max_sizes, (tuple, list)):
            bounds = [m for m in max_sizes if m is not None]
            max_sizes = min(bounds) if bounds else None
        if max_sizes is None:
            return indices, []
        bad = self.sizes[indices] > max_sizes
        if not bad.any():
            return indices, []
        return indices[~bad], indices[bad].tolist()
