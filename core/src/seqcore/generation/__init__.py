"""Sequence generation: beam search and sampling over any incremental decoder."""

from seqcore.generation.config import GenerationConfig, check_generation_options
from seqcore.generation.ensemble import EnsembleModel
from seqcore.generation.ngram_blocking import block_repeated_ngrams
from seqcore.generation.search import BeamSearch, Sampling, nucleus
from seqcore.generation.sequence_generator import SequenceGenerator
from seqcore.generation.sequence_scorer import SequenceScorer

__all__ = [
    "BeamSearch",
    "EnsembleModel",
    "GenerationConfig",
    "Sampling",
    "SequenceGenerator",
    "SequenceScorer",
    "block_repeated_ngrams",
    "check_generation_options",
    "nucleus",
]
