"""Epochs of batches: shuffled per epoch, sharded over data-parallel ranks, resumable mid-epoch.

The batches themselves are fixed once (``batch_by_size`` over the length-sorted indices); each
epoch only reorders them, with ``np.random.RandomState(seed + epoch)``, so any epoch's order can be
rebuilt from ``(seed, epoch)`` alone. That is what makes ``state_dict() ->
{"epoch", "iterations_in_epoch", "shuffle"}`` enough to resume on exactly the next batch.

Sharding: rank ``r`` of ``n`` takes batches ``r, r + n, r + 2n, ...`` of the epoch's order. When
the number of batches is not a multiple of ``n``, the short ranks get EMPTY batches at the end
(as fairseq does): the collater turns an empty list into ``{}``, which the trainer treats as a
dummy batch (a forward/backward whose gradient is multiplied by zero and whose ``sample_size``
is 0), so every rank runs the same number of steps and joins every all-reduce, and no example
is counted twice.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from seqcore.data.batching import batch_by_size
from seqcore.data.data_utils import numpy_seed
from seqcore.errors import DataError

logger = logging.getLogger(__name__)


class CountingIterator:
    """An iterator that knows how many items it has given (``n``) out of ``total``."""

    def __init__(self, iterable: Iterable[Any], start: int = 0, total: int | None = None) -> None:
        self._itr = iter(iterable)
        self.n = start
        self.total = total if total is not None else start + len(iterable)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> CountingIterator:
        return self

    def __next__(self) -> Any:
        if self.n >= self.total:
            raise StopIteration
        item = next(self._itr)
        self.n += 1
        return item

    def has_next(self) -> bool:
        return self.n < self.total


class BufferedIterator:
    """Prefetch up to ``size`` items of ``iterable`` in a background thread."""

    _END = object()

    def __init__(self, size: int, iterable: Iterable[Any]) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._fill, args=(iterable,), daemon=True)
        self._thread.start()

    def _fill(self, iterable: Iterable[Any]) -> None:
        try:
            for item in iterable:
                self._queue.put(item)
        except BaseException as e:  # re-raised in the consumer's thread
            self._error = e
        self._queue.put(self._END)

    def __iter__(self) -> BufferedIterator:
        return self

    def __next__(self) -> Any:
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)
            if self._error is not None:
                raise self._error
            raise StopIteration
        return item


class EpochBatchIterator:
    """Iterate over a fixed list of batches, epoch after epoch (see the module docstring).

    ``batch_sampler`` is the list of batches (arrays of dataset indices); ``collate_fn`` turns a
    list of dataset items into a batch dict. With ``num_workers > 0`` items are read and collated
    in a ``torch.utils.data.DataLoader``'s worker processes; ``buffer_size > 0`` prefetches that
    many batches in a background thread.
    """

    def __init__(
        self,
        dataset: Any,
        collate_fn: Callable[[list[Any]], Any],
        batch_sampler: Sequence[Sequence[int]],
        seed: int = 1,
        num_shards: int = 1,
        shard_id: int = 0,
        num_workers: int = 0,
        epoch: int = 1,
        buffer_size: int = 0,
    ) -> None:
        if num_shards < 1 or not 0 <= shard_id < num_shards:
            raise ValueError(f"shard_id {shard_id} is not in [0, num_shards={num_shards})")
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.frozen_batches = tuple(np.asarray(b, dtype=np.int64) for b in batch_sampler)
        self.seed = seed
        self.num_shards = num_shards
        self.shard_id = shard_id
        self.num_workers = num_workers
        self.buffer_size = buffer_size
        self.epoch = max(int(epoch), 1)
        self.shuffle = True
        self.num_skipped = 0  # examples dropped for being too long (set by get_batch_iterator)
        self._cur_epoch_itr: CountingIterator | None = None
        self._next_epoch_itr: CountingIterator | None = None

    def __len__(self) -> int:
        """Batches per epoch on this rank (the same on every rank)."""
        return math.ceil(len(self.frozen_batches) / self.num_shards)

    @property
    def next_epoch_idx(self) -> int:
        """The epoch the next :meth:`next_epoch_itr` call will return."""
        if self._next_epoch_itr is not None:
            return self.epoch
        if self._cur_epoch_itr is not None and self.end_of_epoch():
            return self.epoch + 1
        return self.epoch

    def next_epoch_itr(self, shuffle: bool = True) -> CountingIterator:
        """The iterator of the next epoch (or the rest of a resumed one)."""
        self.epoch = self.next_epoch_idx
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(self.epoch)
        if self._next_epoch_itr is not None:
            self._cur_epoch_itr = self._next_epoch_itr
            self._next_epoch_itr = None
        else:
            self._cur_epoch_itr = self._iterator_for_epoch(self.epoch, shuffle)
            self.shuffle = shuffle
        return self._cur_epoch_itr

    def end_of_epoch(self) -> bool:
        """Whether the current epoch's iterator is exhausted (False before the first epoch)."""
        if self._cur_epoch_itr is None:
            return False
        return not self._cur_epoch_itr.has_next()

    @property
    def iterations_in_epoch(self) -> int:
        """Batches consumed so far in the current epoch."""
        if self._cur_epoch_itr is not None:
            return self._cur_epoch_itr.n
        if self._next_epoch_itr is not None:
            return self._next_epoch_itr.n
        return 0

    def state_dict(self) -> dict[str, Any]:
        """Plain data from which :meth:`load_state_dict` resumes on exactly the next batch."""
        if self.end_of_epoch():
            return {"epoch": self.epoch + 1, "iterations_in_epoch": 0, "shuffle": self.shuffle}
        return {
            "epoch": self.epoch,
            "iterations_in_epoch": self.iterations_in_epoch,
            "shuffle": self.shuffle,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.epoch = max(int(state_dict["epoch"]), 1)
        offset = int(state_dict.get("iterations_in_epoch", 0))
        self.shuffle = bool(state_dict.get("shuffle", True))
        self._cur_epoch_itr = None
        if offset > 0:
            if offset > len(self):
                raise DataError(
                    f"cannot resume epoch {self.epoch} after batch {offset}: it has only "
                    f"{len(self)} batches now (the data, --max-tokens, --batch-size or the number "
                    "of GPUs changed since the checkpoint)"
                )
            self._next_epoch_itr = self._iterator_for_epoch(self.epoch, self.shuffle, offset)
        else:
            self._next_epoch_itr = None

    # -- internals -------------------------------------------------------------------------------
    def epoch_batches(self, epoch: int, shuffle: bool) -> list[np.ndarray]:
        """This rank's batches of ``epoch`` in order, padded with empty ones to ``len(self)``."""
        batches = list(self.frozen_batches)
        if shuffle:
            np.random.RandomState(self.seed + epoch).shuffle(batches)
        mine = batches[self.shard_id :: self.num_shards]
        mine += [np.zeros(0, dtype=np.int64)] * (len(self) - len(mine))
        return mine

    def _iterator_for_epoch(self, epoch: int, shuffle: bool, offset: int = 0) -> CountingIterator:
        batches = self.epoch_batches(epoch, shuffle)
        remaining = batches[offset:]
        if self.num_workers > 0:
            loader: Iterable[Any] = torch.utils.data.DataLoader(
                self.dataset,
                collate_fn=self.collate_fn,
                batch_sampler=[b.tolist() for b in remaining],
                num_workers=self.num_workers,
            )
        else:
            loader = (self.collate_fn([self.dataset[int(i)] for i in b]) for b in remaining)
        if self.buffer_size > 0:
            loader = BufferedIterator(self.buffer_size, loader)
        return CountingIterator(loader, start=offset, total=len(batches))


def get_batch_iterator(
    dataset: Any,
    max_tokens: int | None = None,
    max_sentences: int | None = None,
    max_positions: Any = None,
    ignore_invalid_inputs: bool = False,
    required_batch_size_multiple: int = 1,
    seed: int = 1,
    num_shards: int = 1,
    shard_id: int = 0,
    num_workers: int = 0,
    epoch: int = 1,
    buffer_size: int = 0,
) -> EpochBatchIterator:
    """Order, filter and batch ``dataset``; the returned iterator's ``num_skipped`` counts the
    examples left out for exceeding ``max_positions`` (only with ``ignore_invalid_inputs``;
    without it such an example is a :class:`~seqcore.errors.DataError` naming it)."""
    with numpy_seed(seed):
        indices = dataset.ordered_indices()
    ignored: list[int] = []
    if max_positions is not None:
        indices, ignored = dataset.filter_indices_by_size(indices, max_positions)
        if ignored and not ignore_invalid_inputs:
            first = ignored[0]
            raise DataError(
                f"example {first} has size {_describe_size(dataset.size(first))}, more than the "
                f"max positions {_describe_size(max_positions)}; raise "
                "--max-source-positions/--max-target-positions or skip such examples with "
                "--skip-invalid-size-inputs-valid-test"
            )
        if ignored:
            logger.warning(
                "%d examples are longer than the max positions %s and are skipped (first ids: %s)",
                len(ignored),
                _describe_size(max_positions),
                ", ".join(str(i) for i in ignored[:10]),
            )
    if hasattr(dataset, "num_tokens_vec"):
        num_tokens = dataset.num_tokens_vec(indices)
    else:
        num_tokens = np.array([dataset.num_tokens(int(i)) for i in indices], dtype=np.int64)
    batches = batch_by_size(
        indices,
        num_tokens,
        max_tokens=max_tokens,
        max_sentences=max_sentences,
        required_batch_size_multiple=required_batch_size_multiple,
    )
    itr = EpochBatchIterator(
        dataset,
        collate_fn=dataset.collater,
        batch_sampler=batches,
        seed=seed,
        num_shards=num_shards,
        shard_id=shard_id,
        num_workers=num_workers,
        epoch=epoch,
        buffer_size=buffer_size,
    )
    itr.num_skipped = len(ignored)
    return itr


def _describe_size(size: Any) -> str:
    if isinstance(size, (tuple, list)):
        return "(" + ", ".join(str(int(s)) if s is not None else "None" for s in size) + ")"
    return str(int(size)) if size is not None else "None"
