"""The generation options (fairseq's ``--beam``, ``--lenpen``, ...) and their validation.

The same checks guard the :class:`~seqcore.generation.SequenceGenerator` constructor and the
``GenerationConfig`` the command line builds, so a bad value is reported once, naming its flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seqcore.errors import ConfigError


def check_generation_options(
    *,
    beam: int,
    nbest: int,
    min_len: int,
    temperature: float,
    no_repeat_ngram_size: int,
    sampling: bool,
    sampling_topk: int,
    sampling_topp: float,
) -> None:
    """Raise :class:`ConfigError` naming the flag of the first impossible value."""
    if beam < 1:
        raise ConfigError(f"--beam {beam} must be >= 1")
    if not 1 <= nbest <= beam:
        raise ConfigError(f"--nbest {nbest} must be between 1 and --beam {beam}")
    if min_len < 0:
        raise ConfigError(f"--min-len {min_len} must be >= 0")
    if not temperature > 0:
        raise ConfigError(f"--temperature {temperature} must be > 0")
    if no_repeat_ngram_size < 0:
        raise ConfigError(f"--no-repeat-ngram-size {no_repeat_ngram_size} must be >= 0")
    if sampling_topk > 0 and not sampling:
        raise ConfigError(f"--sampling-topk {sampling_topk} requires --sampling")
    if sampling_topp > 0 and not sampling:
        raise ConfigError(f"--sampling-topp {sampling_topp} requires --sampling")
    if sampling_topp > 1:
        raise ConfigError(f"--sampling-topp {sampling_topp} must be in (0, 1]")
    if sampling_topk > 0 and sampling_topp > 0:
        raise ConfigError(
            f"--sampling-topk {sampling_topk} and --sampling-topp {sampling_topp} "
            "cannot be used together"
        )


@dataclass
class GenerationConfig:
    """fairseq-generate's search options, under fairseq's flag names."""

    beam: int = field(default=5, metadata={"help": "beam size"})
    nbest: int = field(default=1, metadata={"help": "number of hypotheses to output"})
    max_len_a: float = field(
        default=0.0,
        metadata={
            "help": "generate sequences of maximum length ax + b, where x is the source length"
        },
    )
    max_len_b: int = field(
        default=200,
        metadata={
            "help": "generate sequences of maximum length ax + b, where x is the source length"
        },
    )
    min_len: int = field(default=1, metadata={"help": "minimum generation length"})
    unnormalized: bool = field(
        default=False, metadata={"help": "compare unnormalized hypothesis scores"}
    )
    lenpen: float = field(
        default=1.0,
        metadata={"help": "length penalty: <1.0 favors shorter, >1.0 favors longer sentences"},
    )
    unkpen: float = field(
        default=0.0,
        metadata={"help": "unknown word penalty: <0 produces more unks, >0 produces fewer"},
    )
    temperature: float = field(
        default=1.0, metadata={"help": "temperature for generation (divides the logits)"}
    )
    no_repeat_ngram_size: int = field(
        default=0, metadata={"help": "ngram blocking such that this size ngram cannot be repeated"}
    )
    sampling: bool = field(
        default=False, metadata={"help": "sample hypotheses instead of using beam search"}
    )
    sampling_topk: int = field(
        default=-1, metadata={"help": "sample from the top k most likely tokens (-1: all)"}
    )
    sampling_topp: float = field(
        default=-1.0,
        metadata={
            "help": "sample from the smallest set of tokens whose probability mass exceeds p"
        },
    )
    prefix_size: int = field(
        default=0, metadata={"help": "initialize generation by the first N target tokens"}
    )
    recompute_prefix: bool = field(
        default=False,
        metadata={"help": "recompute the whole prefix at every step instead of using the cache"},
    )

    def __post_init__(self) -> None:
        check_generation_options(
            beam=self.beam,
            nbest=self.nbest,
            min_len=self.min_len,
            temperature=self.temperature,
            no_repeat_ngram_size=self.no_repeat_ngram_size,
            sampling=self.sampling,
            sampling_topk=self.sampling_topk,
            sampling_topp=self.sampling_topp,
        )
        if self.sampling and self.nbest != self.beam:
            raise ConfigError(
                f"--sampling requires --nbest ({self.nbest}) to be equal to --beam ({self.beam})"
            )
        if self.prefix_size < 0:
            raise ConfigError(f"--prefix-size {self.prefix_size} must be >= 0")
