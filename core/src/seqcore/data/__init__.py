"""Data: dictionaries, binarized datasets, batching, and turning text into them (preprocessing)."""

from seqcore.data.batching import batch_by_size
from seqcore.data.data_utils import collate_tokens
from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import (
    MMapIndexedDataset,
    MMapIndexedDatasetBuilder,
    best_dtype,
)
from seqcore.data.iterators import EpochBatchIterator, get_batch_iterator
from seqcore.data.language_pair_dataset import LanguagePairDataset
from seqcore.data.preprocess import PreprocessOptions, PreprocessResult, run_preprocess
from seqcore.data.token_block_dataset import MonolingualDataset, TokenBlockDataset

__all__ = [
    "Dictionary",
    "EpochBatchIterator",
    "LanguagePairDataset",
    "MMapIndexedDataset",
    "MMapIndexedDatasetBuilder",
    "MonolingualDataset",
    "PreprocessOptions",
    "PreprocessResult",
    "TokenBlockDataset",
    "batch_by_size",
    "best_dtype",
    "collate_tokens",
    "get_batch_iterator",
    "run_preprocess",
]
