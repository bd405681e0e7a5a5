"""Language-model blocks with preceding context (fairseq's ``LMContextWindowDataset``).

With ``--context-window C`` every block is scored with up to ``C`` tokens that precede it in the
data as extra decoder input: the collater prepends the tail of the previous block(s) to each
row and shifts its target to match, and records where the scored part starts
(``sample["start_indices"]``). The context flows from row to row and batch to batch, so the
blocks must be read once, in order, in one process: ``ordered_indices`` keeps the data order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class ContextWindowDataset(torch.utils.data.Dataset):
    def __init__(self, dataset: Any, tokens_per_sample: int, context_window: int, pad: int):
        if context_window <= 0:
            raise ValueError("context_window must be positive")
        self.dataset = dataset
        self.tokens_per_sample = tokens_per_sample
        self.context_window = context_window
        self.pad = pad
        self.prev_tokens = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]

    @property
    def sizes(self) -> np.ndarray:
        return self.dataset.sizes

    def num_tokens(self, index: int) -> int:
        return self.dataset.num_tokens(index)

    def num_tokens_vec(self, indices: np.ndarray) -> np.ndarray:
        return self.dataset.num_tokens_vec(indices)

    def size(self, index: int) -> Any:
        return self.dataset.size(index)

    def ordered_indices(self) -> np.ndarray:
        return np.arange(len(self.dataset), dtype=np.int64)

    def filter_indices_by_size(self, indices: np.ndarray, max_sizes: Any) -> Any:
        return self.dataset.filter_indices_by_size(indices, max_sizes)

    def collater(self, samples: list[Any]) -> dict[str, Any]:
        sample = self.dataset.collater(samples)
        if not sample:
            return sample
        pad, window = self.pad, self.context_window
        longest = self.tokens_per_sample + window
        tokens = sample["net_input"]["src_tokens"]
        lengths = sample["net_input"]["src_lengths"].clone()
        target = sample["target"]
        bsz, width = tokens.shape
        new_tokens = np.full((bsz, width + window), pad, dtype=np.int64)
        new_target = np.full((bsz, width + window), pad, dtype=np.int64)
        real = tokens.ne(pad).long().sum(dim=1).tolist()
        starts = []
        for i in range(bsz):
            extra = len(self.prev_tokens) + real[i] - longest
            if extra > 0:
                self.prev_tokens = self.prev_tokens[extra:]
            n_prev = len(self.prev_tokens)
            row = np.concatenate([self.prev_tokens, tokens[i].numpy()])
            new_tokens[i, : len(row)] = row
            new_target[i, n_prev : n_prev + target.size(1)] = target[i].numpy()
            starts.append(n_prev)
            lengths[i] += n_prev
            kept = new_tokens[i][new_tokens[i] != pad]
            self.prev_tokens = kept[-window:]
        sample["net_input"]["src_tokens"] = torch.from_numpy(new_tokens)
        sample["net_input"]["src_lengths"] = lengths
        sample["target"] = torch.from_numpy(new_target)
        sample["start_indices"] = starts
        return sample
