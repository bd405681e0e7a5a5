"""Dictionaries, tasks, batches and model builders for the Transformer plug-in's tests."""

from __future__ import annotations

import types

import pytest
import torch

import seqcore_transformer  # noqa: F401  (registers the models and architectures)
from seqcore.config import make_config
from seqcore.config.fields import Component
from seqcore.config.resolve import apply_architecture
from seqcore.data import Dictionary
from seqcore.models.registry import model_entry_for_arch
from seqcore.registry import ARCHITECTURES
from seqcore_transformer import (
    TransformerConfig,
    TransformerLanguageModel,
    TransformerLanguageModelConfig,
    TransformerModel,
)


class Task:
    """The two dictionaries a model's build_model reads from its task."""

    def __init__(self, source_dictionary, target_dictionary) -> None:
        self.source_dictionary = source_dictionary
        self.target_dictionary = target_dictionary


def dictionary_of_size(size: int, prefix: str = "w") -> Dictionary:
    """A dictionary of exactly ``size`` symbols (the 4 specials included)."""
    d = Dictionary()
    for i in range(size - len(d)):
        d.add_symbol(f"{prefix}{i}")
    assert len(d) == size
    return d


def tiny_config(**values) -> TransformerConfig:
    """A small encoder-decoder config (2+2 layers, d=16), given values win."""
    base = dict(
        encoder_embed_dim=16,
        encoder_ffn_embed_dim=32,
        encoder_layers=2,
        encoder_attention_heads=4,
        decoder_embed_dim=16,
        decoder_ffn_embed_dim=32,
        decoder_layers=2,
        decoder_attention_heads=4,
    )
    base.update(values)
    return make_config(TransformerConfig, "transformer", base)


def tiny_lm_config(**values) -> TransformerLanguageModelConfig:
    base = dict(
        decoder_embed_dim=16,
        decoder_ffn_embed_dim=32,
        decoder_layers=2,
        decoder_attention_heads=4,
        decoder_normalize_before=True,
    )
    base.update(values)
    return make_config(TransformerLanguageModelConfig, "transformer_lm", base)


def build(cfg, src_size: int = 40, tgt_size: int = 48) -> TransformerModel:
    task = Task(dictionary_of_size(src_size, "s"), dictionary_of_size(tgt_size, "t"))
    return TransformerModel.build_model(cfg, task)


def build_lm(cfg, size: int = 48) -> TransformerLanguageModel:
    d = dictionary_of_size(size)
    return TransformerLanguageModel.build_model(cfg, Task(d, d))


def resolve(arch_name: str, given: dict | None = None):
    """The model config the core resolves for ``--arch arch_name`` with the flags in
    ``given``: the architecture fills a namespace holding only the given values, the user's
    values go on top, the dataclass supplies the rest."""
    arch = ARCHITECTURES.get(arch_name)
    model = model_entry_for_arch(arch_name)
    component = Component("model", model.name, model.config_class, model.origin)
    values = apply_architecture(arch, component, dict(given or {}))
    return make_config(model.config_class, model.name, values)


def random_tokens(gen: torch.Generator, bsz: int, length: int, vocab: int) -> torch.Tensor:
    """Token ids that are neither special symbols nor padding."""
    return torch.randint(4, vocab, (bsz, length), generator=gen)


def left_pad(tokens: torch.Tensor, lengths: list[int], pad: int = 1) -> torch.Tensor:
    tokens = tokens.clone()
    for i, n in enumerate(lengths):
        tokens[i, : tokens.size(1) - n] = pad
    return tokens


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run faster on one thread than on a busy shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def helpers():
    return types.SimpleNamespace(
        Task=Task,
        dictionary_of_size=dictionary_of_size,
        tiny_config=tiny_config,
        tiny_lm_config=tiny_lm_config,
        build=build,
        build_lm=build_lm,
        resolve=resolve,
        random_tokens=random_tokens,
        left_pad=left_pad,
    )
