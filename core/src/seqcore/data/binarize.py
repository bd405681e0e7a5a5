"""Text files -> token counts and ``.bin``/``.idx`` datasets, fast and in parallel.

A line is what Python's text files yield (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends it, as in
fairseq), tokens are whitespace-separated, every line gets a final ``</s>``. Work is split into
byte ranges that start at line boundaries: each range is encoded on its own (by a worker process
when ``workers > 1``) into a shard, and the shards are appended in order, so the output does not
depend on the number of workers.

Speed: a block of lines is tokenized and looked up with numpy (see :mod:`vectorized_tokens`),
one Python dictionary lookup per distinct token; text that path cannot take exactly (Unicode
whitespace, NUL bytes) goes through ``str.split`` and one lookup per token, with the newlines
turned into a sentinel token so that a whole block still takes one ``split`` and one ``map``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from seqcore.data import vectorized_tokens
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import best_dtype, write_index
from seqcore.data.text_lines import LineError, decode_block, line_ranges, open_input, read_blocks
from seqcore.errors import DataError

MIN_RANGE_BYTES = 1 << 20  # smallest byte range handed to a worker
RANGES_PER_WORKER = 4  # more ranges than workers: balances load and ticks the progress bar

Progress = Callable[[int], None]  # called with the number of input bytes just processed

_SENTINEL = "\x00"  # ends a line inside a block; never whitespace, so split() keeps it
_SEP = -1  # the id the sentinel maps to


@dataclass
class BinarizeStats:
    """What binarizing one file did: lines (sentences), tokens (``</s>`` included), unknowns."""

    nseq: int = 0
    ntok: int = 0
    nreplaced: int = 0
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def replaced_percent(self) -> float:
        return 100.0 * self.nreplaced / self.ntok if self.ntok else 0.0


# -- parallel driver -------------------------------------------------------------------------
def _plan(path: str, workers: int) -> list[tuple[int, int]]:
    if workers <= 1:
        return [(0, os.path.getsize(path))]
    n = min(workers * RANGES_PER_WORKER, max(1, os.path.getsize(path) // MIN_RANGE_BYTES))
    return line_ranges(path, n)


def _pool(workers: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()):
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ctx.Pool(workers, initializer=initializer, initargs=initargs)


def _raise_first_error(path: str, results: list) -> None:
    """Turn the first range's line problem into a DataError with the line number in the file."""
    lines_before = 0
    for result in results:
        if result.error is not None:
            line, reason = result.error
            raise DataError(f"{path} line {lines_before + line}: {reason}")
        lines_before += result.nlines


# -- counting tokens (dictionary building) ---------------------------------------------------
@dataclass
class _CountResult:
    counts: dict[bytes, int]  # keyed by the tokens' UTF-8 bytes: decoded once, at the end
    nlines: int
    nbytes: int
    error: tuple[int, str] | None = None


def _count_range(path: str, start: int, end: int, progress: Progress | None = None):
    counts: dict[bytes, int] = {}
    nlines = 0
    try:
        with open_input(path) as f:
            for block in read_blocks(f, start, end):
                _add_block_counts(counts, block, nlines)
                nlines += block.count(b"\n")
                if progress is not None:
                    progress(len(block))
    except LineError as e:
        return _CountResult(counts, nlines, end - start, (e.line, e.reason))
    return _CountResult(counts, nlines, end - start)


def _add_block_counts(counts: dict[bytes, int], block: bytes, lines_before: int) -> None:
    text = None if block.isascii() else decode_block(block, lines_before)
    if vectorized_tokens.applies(block, text):
        groups = vectorized_tokens.group_block(block)
        if groups is not None:
            _merge_counts(counts, zip(groups.words, groups.counts.tolist()))
            _merge_counts(counts, Counter(groups.long_words).items())
            return
    words = Counter((block.decode("utf-8") if text is None else text).split())
    _merge_counts(counts, ((w.encode("utf-8"), n) for w, n in words.items()))


def _merge_counts(counts: dict[bytes, int], items) -> None:
    get = counts.get
    for word, n in items:
        counts[word] = get(word, 0) + n


def _count_job(job: tuple[str, int, int]) -> _CountResult:
    return _count_range(*job)


def count_file_tokens(
    path: str, workers: int = 1, progress: Progress | None = None, eos_word: str = "</s>"
) -> Counter:
    """Token counts of ``path`` plus one ``eos_word`` per line, as fairseq counts them."""
    with open_input(path):
        pass
    ranges = _plan(path, workers)
    if len(ranges) == 1:
        results = [_count_range(path, *ranges[0], progress=progress)]
    else:
        with _pool(min(workers, len(ranges))) as pool:
            results = []
            for result in pool.imap(_count_job, [(path, s, e) for s, e in ranges]):
                results.append(result)
                if progress is not None:
                    progress(result.nbytes)
    _raise_first_error(path, results)
    merged = results[0].counts
    for result in results[1:]:
        _merge_counts(merged, result.counts.items())
    total = Counter({word.decode("utf-8"): n for word, n in merged.items()})
    total[eos_word] += sum(result.nlines for result in results)
    return total


# -- binarizing ------------------------------------------------------------------------------
class _Lookup(dict):
    """token -> id; a missing token gets the id ``unk`` and is counted in ``misses``."""

    __slots__ = ("unk", "misses")

    def __missing__(self, key: str) -> int:
        self.misses += 1
        return self.unk


@dataclass
class _EncodeResult:
    nlines: int
    ntok: int
    nreplaced: int
    nbytes: int
    sizes: np.ndarray
    error: tuple[int, str] | None = None


class _Encoder:
    """Encodes byte ranges of a text file into a raw ``.bin`` shard plus item sizes."""

    def __init__(self, dictionary: Dictionary, dtype: np.dtype, allow_empty_lines: bool) -> None:
        self.indices = dictionary.indices
        self.unk_word = dictionary.unk_word
        self.unk = dictionary.unk_index
        self.eos = dictionary.eos_index
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.allow_empty_lines = allow_empty_lines
        self.table = _Lookup(self.indices)
        self.table.unk, self.table.misses = self.unk, 0
        self.table[_SENTINEL] = _SEP
        self.bytes_table = _Lookup(
            (w.encode("utf-8", "surrogatepass"), i) for w, i in self.indices.items()
        )
        self.bytes_table.unk, self.bytes_table.misses = -1, 0  # unknown: -1, told apart later

    def encode_block(self, block: bytes, lines_before: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(ids with ``</s>`` after each line, tokens per line, tokens replaced by unk)."""
        text = None if block.isascii() else decode_block(block, lines_before)
        if vectorized_tokens.applies(block, text):
            groups = vectorized_tokens.group_block(block)
            if groups is not None:
                return vectorized_tokens.encode_groups(
                    groups, self.bytes_table.__getitem__, self.unk, self.eos
                )
        return self._encode_text(block.decode("utf-8") if text is None else text)

    def _encode_text(self, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """The str path: one split and one lookup per token, for any text."""
        if _SENTINEL in text:
            return self._encode_block_by_line(text)
        tokens = text.replace("\n", " " + _SENTINEL + " ").split()
        table = self.table
        misses = table.misses
        ids = np.fromiter(map(table.__getitem__, tokens), dtype=np.int64, count=len(tokens))
        ends = np.flatnonzero(ids == _SEP)
        ids[ends] = self.eos
        return ids, np.diff(ends, prepend=-1), table.misses - misses

    def _encode_block_by_line(self, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """The plain path, for the rare text that contains the sentinel character itself."""
        get, unk, unk_word = self.indices.get, self.unk, self.unk_word
        ids: list[int] = []
        sizes: list[int] = []
        replaced = 0
        for line in text.split("\n")[:-1]:
            words = line.split()
            line_ids = [get(w, unk) for w in words]
            replaced += sum(1 for w, i in zip(words, line_ids) if i == unk and w != unk_word)
            ids.extend(line_ids)
            ids.append(self.eos)
            sizes.append(len(line_ids) + 1)
        return np.asarray(ids, dtype=np.int64), np.asarray(sizes, dtype=np.int64), replaced

    def encode_range(
        self, path: str, start: int, end: int, out_path: str, progress: Progress | None = None
    ) -> _EncodeResult:
        """Encode bytes ``[start, end)`` of ``path`` into ``out_path``."""
        nlines = ntok = nreplaced = 0
        all_sizes: list[np.ndarray] = []
        error = None
        with open_input(path) as f, open(out_path, "wb") as out:
            try:
                for block in read_blocks(f, start, end):
                    ids, sizes, replaced = self.encode_block(block, nlines)
                    if not self.allow_empty_lines and len(sizes) and sizes.min() == 1:
                        line = nlines + int(np.flatnonzero(sizes == 1)[0]) + 1
                        raise LineError(
                            line,
                            "empty line (every line of a parallel corpus must hold a sentence)",
                        )
                    out.write(ids.astype(self.dtype).tobytes())
                    all_sizes.append(sizes)
                    nlines += len(sizes)
                    ntok += len(ids)
                    nreplaced += replaced
                    if progress is not None:
                        progress(len(block))
            except LineError as e:
                error = (e.line, e.reason)
        sizes = np.concatenate(all_sizes) if all_sizes else np.zeros(0, dtype=np.int64)
        return _EncodeResult(nlines, ntok, nreplaced, end - start, sizes, error)


_worker_encoder: _Encoder | None = None


def _init_encode_worker(encoder: _Encoder) -> None:
    global _worker_encoder
    _worker_encoder = encoder


def _encode_job(job: tuple[str, int, int, str]) -> _EncodeResult:
    assert _worker_encoder is not None
    return _worker_encoder.encode_range(*job)


def binarize_file(
    path: str,
    dictionary: Dictionary,
    data_path: str,
    index_path: str,
    *,
    workers: int = 1,
    allow_empty_lines: bool = True,
    progress: Progress | None = None,
) -> BinarizeStats:
    """Write the lines of ``path`` as ids of ``dictionary`` (plus ``</s>``) as a dataset.

    Ids are stored in the dtype fairseq-preprocess picks for the dictionary's size. Unknown
    tokens become ``<unk>``. On a bad line (not UTF-8, or empty when ``allow_empty_lines`` is
    false) a :class:`DataError` names the file and line, and nothing is left at the two paths.
    """
    with open_input(path):
        pass
    encoder = _Encoder(dictionary, best_dtype(len(dictionary)), allow_empty_lines)
    ranges = _plan(path, workers)
    shards: list[str] = []
    try:
        if len(ranges) == 1:
            results = [encoder.encode_range(path, *ranges[0], data_path, progress)]
        else:
            shards = [f"{data_path}.part{k}" for k in range(len(ranges))]
            jobs = [(path, s, e, shard) for (s, e), shard in zip(ranges, shards)]
            results = []
            with _pool(min(workers, len(ranges)), _init_encode_worker, (encoder,)) as pool:
                for result in pool.imap(_encode_job, jobs):
                    results.append(result)
                    if progress is not None:
                        progress(result.nbytes)
        _raise_first_error(path, results)
        if shards:
            _concatenate(shards, data_path)
        sizes = np.concatenate([r.sizes for r in results])
        write_index(index_path, encoder.dtype, sizes)
    except BaseException:
        for leftover in (data_path, index_path):
            _remove(leftover)
        raise
    finally:
        for shard in shards:
            _remove(shard)
    return BinarizeStats(
        nseq=sum(r.nlines for r in results),
        ntok=sum(r.ntok for r in results),
        nreplaced=sum(r.nreplaced for r in results),
        sizes=sizes,
    )


def _concatenate(parts: list[str], out_path: str) -> None:
    with open(out_path, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while chunk := f.read(1 << 22):
                    out.write(chunk)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
