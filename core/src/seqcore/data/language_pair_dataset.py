"""Parallel sentences (source, target) and the batches a translation model trains on.

Items are ``{"id", "source", "target"}`` with 1-D int64 token tensors that end in ``</s>``. The
collater pads them as fairseq does: source on the left, target on the right (by default), and
``prev_output_tokens`` is the target shifted right behind ``</s>`` (teacher forcing). Rows are
sorted by source length, longest first, which packed-sequence encoders (LSTMs) rely on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from seqcore.data.data_utils import collate_tokens
from seqcore.errors import DataError


class LanguagePairDataset(torch.utils.data.Dataset):
    """A source dataset and an optional, aligned target dataset.

    ``src``/``tgt`` are indexable datasets of 1-D token tensors (e.g. ``MMapIndexedDataset``);
    ``src_sizes``/``tgt_sizes`` their lengths. Without ``tgt`` (inference) batches carry no
    target and no ``prev_output_tokens``.
    """

    def __init__(
        self,
        src: Any,
        src_sizes: Any,
        src_dict: Any,
        tgt: Any = None,
        tgt_sizes: Any = None,
        tgt_dict: Any = None,
        left_pad_source: bool = True,
        left_pad_target: bool = False,
        shuffle: bool = True,
        input_feeding: bool = True,
        remove_eos_from_source: bool = False,
        append_eos_to_target: bool = False,
        eos: int | None = None,
        pad_to_multiple: int = 1,
    ) -> None:
        if tgt_dict is not None:
            for name in ("pad", "eos", "unk"):
                if getattr(src_dict, name)() != getattr(tgt_dict, name)():
                    raise DataError(
                        f"source and target dictionaries disagree on the {name} index "
                        f"({getattr(src_dict, name)()} vs {getattr(tgt_dict, name)()})"
                    )
        self.src = src
        self.tgt = tgt
        self.src_sizes = np.asarray(src_sizes, dtype=np.int64).reshape(-1)
        self.tgt_sizes = (
            np.asarray(tgt_sizes, dtype=np.int64).reshape(-1) if tgt_sizes is not None else None
        )
        if len(self.src_sizes) != len(src):
            raise DataError(f"source has {len(src)} sentences but {len(self.src_sizes)} sizes")
        if tgt is not None:
            if len(tgt) != len(src):
                raise DataError(
                    f"source and target have different numbers of sentences "
                    f"({len(src)} vs {len(tgt)})"
                )
            if self.tgt_sizes is None or len(self.tgt_sizes) != len(tgt):
                raise DataError("the target dataset needs one size per sentence")
        self.src_dict = src_dict
        self.tgt_dict = tgt_dict
        self.left_pad_source = left_pad_source
        self.left_pad_target = left_pad_target
        self.shuffle = shuffle
        self.input_feeding = input_feeding
        self.remove_eos_from_source = remove_eos_from_source
        self.append_eos_to_target = append_eos_to_target
        self.eos = eos if eos is not None else src_dict.eos()
        self.pad_to_multiple = pad_to_multiple

    # -- items ---------------------------------------------------------------------------------
    def __getitem__(self, index: int) -> dict[str, Any]:
        index = int(index)
        src_item = self.src[index]
        tgt_item = self.tgt[index] if self.tgt is not None else None
        if self.append_eos_to_target and tgt_item is not None:
            eos = self.tgt_dict.eos() if self.tgt_dict is not None else self.src_dict.eos()
            if len(tgt_item) == 0 or int(tgt_item[-1]) != eos:
                tgt_item = torch.cat([tgt_item, tgt_item.new_tensor([eos])])
        eos_last = len(src_item) > 0 and int(src_item[-1]) == self.src_dict.eos()
        if self.remove_eos_from_source and eos_last:
            src_item = src_item[:-1]
        return {"id": index, "source": src_item, "target": tgt_item}

    def __len__(self) -> int:
        return len(self.src)

    @property
    def sizes(self) -> np.ndarray:
        """Source lengths, or ``(N, 2)`` source and target lengths when there is a target."""
        if self.tgt_sizes is None:
            return self.src_sizes
        return np.stack([self.src_sizes, self.tgt_sizes], axis=1)

    # -- batches -------------------------------------------------------------------------------
    def collater(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """fairseq's batch dict; ``{}`` for an empty list (a data-parallel rank's dummy batch)."""
        if len(samples) == 0:
            return {}
        pad = self.src_dict.pad()

        def merge(key: str, left_pad: bool, move_eos_to_beginning: bool = False) -> torch.Tensor:
            return collate_tokens(
                [s[key] for s in samples],
                pad,
                self.eos,
                left_pad=left_pad,
                move_eos_to_beginning=move_eos_to_beginning,
                pad_to_multiple=self.pad_to_multiple,
            )

        ids = torch.tensor([s["id"] for s in samples], dtype=torch.long)
        src_tokens = merge("source", self.left_pad_source)
        src_lengths = src_tokens.ne(pad).long().sum(dim=1)
        src_lengths, order = src_lengths.sort(descending=True, stable=True)
        batch: dict[str, Any] = {
            "id": ids.index_select(0, order),
            "nsentences": len(samples),
            "ntokens": int(src_lengths.sum()),
            "net_input": {
                "src_tokens": src_tokens.index_select(0, order),
                "src_lengths": src_lengths,
            },
            "target": None,
        }
        if samples[0].get("target") is not None:
            target = merge("target", self.left_pad_target).index_select(0, order)
            batch["target"] = target
            batch["ntokens"] = int(target.ne(pad).sum())
            if self.input_feeding:
                prev = merge("target", self.left_pad_target, move_eos_to_beginning=True)
                batch["net_input"]["prev_output_tokens"] = prev.index_select(0, order)
        return batch

    def num_tokens(self, index: int) -> int:
        """Tokens of example ``index`` for ``--max-tokens``: the longer of source and target."""
        if self.tgt_sizes is None:
            return int(self.src_sizes[index])
        return int(max(self.src_sizes[index], self.tgt_sizes[index]))

    def num_tokens_vec(self, indices: np.ndarray) -> np.ndarray:
        sizes = self.src_sizes[indices]
        if self.tgt_sizes is not None:
            sizes = np.maximum(sizes, self.tgt_sizes[indices])
        return sizes

    def size(self, index: int) -> tuple[int, int]:
        """``(source length, target length)`` of example ``index`` (target 0 without one)."""
        tgt = int(self.tgt_sizes[index]) if self.tgt_sizes is not None else 0
        return (int(self.src_sizes[index]), tgt)

    def ordered_indices(self) -> np.ndarray:
        """Indices sorted by target length then (stably) by source length, as fairseq does.

        With ``shuffle`` the ties are broken by a random permutation drawn from numpy's global
        generator; the batch iterator seeds it (:func:`~seqcore.data.data_utils.numpy_seed`).
        """
        if self.shuffle:
            indices = np.random.permutation(len(self)).astype(np.int64)
        else:
            indices = np.arange(len(self), dtype=np.int64)
        if self.tgt_sizes is not None:
            indices = indices[np.argsort(self.tgt_sizes[indices], kind="mergesort")]
        return indices[np.argsort(self.src_sizes[indices], kind="mergesort")]

    def filter_indices_by_size(
        self, indices: np.ndarray, max_sizes: Any
    ) -> tuple[np.ndarray, list[int]]:
        """Split ``indices`` into those within ``max_sizes`` and the ignored ones.

        ``max_sizes`` is one bound for both sides or ``(max source, max target)``; ``None``
        (overall or per side) means no bound.
        """
        indices = np.asarray(indices, dtype=np.int64)
        if max_sizes is None:
            return indices, []
        if isinstance(max_sizes, (int, float, np.integer, np.floating)):
            max_src, max_tgt = max_sizes, max_sizes
        else:
            max_src, max_tgt = max_sizes
        bad = np.zeros(len(indices), dtype=bool)
        if max_src is not None:
            bad |= self.src_sizes[indices] > max_src
        if max_tgt is not None and self.tgt_sizes is not None:
            bad |= self.tgt_sizes[indices] > max_tgt
        if not bad.any():
            return indices, []
        return indices[~bad], indices[bad].tolist()
