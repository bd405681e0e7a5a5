"""Named architectures: fairseq's hyper-parameters, and values the user gives always win.

The core calls an architecture function on a namespace holding only the user's values, puts
the user's values back on top, and takes the dataclass defaults for anything left unset; the
helper below does the same.
"""

import dataclasses
import types

import pytest

from seqcore.config import make_config
from seqcore.registry import ARCHITECTURES
from seqcore_lstm import (
    LSTMConfig,
    LSTMLanguageModelConfig,
    lstm_base_architecture,
    lstm_lm_base_architecture,
    lstm_luong_wmt_en_de,
    lstm_wiseman_iwslt_de_en,
)


def resolve(arch_name, config_class, **given):
    ns = types.SimpleNamespace(**given)
    ARCHITECTURES.get(arch_name).obj(ns)
    values = {**vars(ns), **given}
    names = {f.name for f in dataclasses.fields(config_class)}
    assert set(values) <= names, f"architecture sets undeclared fields {set(values) - names}"
    return make_config(config_class, arch_name, values)


def test_architectures_are_registered_under_their_models():
    expected = {
        "lstm": (lstm_base_architecture, "lstm"),
        "lstm_wiseman_iwslt_de_en": (lstm_wiseman_iwslt_de_en, "lstm"),
        "lstm_luong_wmt_en_de": (lstm_luong_wmt_en_de, "lstm"),
        "lstm_lm": (lstm_lm_base_architecture, "lstm_lm"),
    }
    for arch, (fn, model) in expected.items():
        entry = ARCHITECTURES.get(arch)
        assert entry.obj is fn
        assert entry.extra["model"] == model


def test_lstm_base_architecture_is_fairseqs():
    cfg = resolve("lstm", LSTMConfig)
    assert (cfg.encoder_embed_dim, cfg.encoder_hidden_size, cfg.encoder_layers) == (512, 512, 1)
    assert (cfg.decoder_embed_dim, cfg.decoder_hidden_size, cfg.decoder_layers) == (512, 512, 1)
    assert cfg.decoder_out_embed_dim == 512
    assert cfg.encoder_bidirectional is False and cfg.decoder_attention is True
    assert cfg.dropout == 0.1
    assert cfg.encoder_dropout_in == cfg.encoder_dropout_out == 0.1
    assert cfg.decoder_dropout_in == cfg.decoder_dropout_out == 0.1
    assert not cfg.share_decoder_input_output_embed and not cfg.share_all_embeddings
    # the dataclass alone means the same as the base architecture
    assert dataclasses.asdict(cfg) == dataclasses.asdict(LSTMConfig())


def test_lstm_wiseman_iwslt_de_en_is_fairseqs():
    cfg = resolve("lstm_wiseman_iwslt_de_en", LSTMConfig)
    assert cfg.encoder_embed_dim == cfg.encoder_hidden_size == 256
    assert cfg.decoder_embed_dim == cfg.decoder_hidden_size == cfg.decoder_out_embed_dim == 256
    assert cfg.encoder_layers == cfg.decoder_layers == 1
    assert cfg.dropout == 0.1
    assert (cfg.encoder_dropout_in, cfg.encoder_dropout_out) == (0, 0)
    assert (cfg.decoder_dropout_in, cfg.decoder_dropout_out) == (0, 0.1)
    assert cfg.decoder_attention is True


def test_lstm_luong_wmt_en_de_is_fairseqs():
    cfg = resolve("lstm_luong_wmt_en_de", LSTMConfig)
    assert cfg.encoder_embed_dim == cfg.encoder_hidden_size == 1000
    assert cfg.decoder_embed_dim == cfg.decoder_hidden_size == cfg.decoder_out_embed_dim == 1000
    assert cfg.encoder_layers == cfg.decoder_layers == 4
    assert (cfg.encoder_dropout_in, cfg.encoder_dropout_out) == (0.1, 0)
    assert (cfg.decoder_dropout_in, cfg.decoder_dropout_out) == (0.1, 0)


def test_lstm_lm_architecture_is_fairseqs():
    cfg = resolve("lstm_lm", LSTMLanguageModelConfig)
    assert cfg.decoder_embed_dim == cfg.decoder_hidden_size == cfg.decoder_out_embed_dim == 512
    assert cfg.decoder_layers == 1
    assert cfg.decoder_dropout_in == cfg.decoder_dropout_out == 0.1
    assert cfg.decoder_attention is False and cfg.residuals is False
    assert dataclasses.asdict(cfg) == dataclasses.asdict(LSTMLanguageModelConfig())


@pytest.mark.parametrize("arch", ["lstm", "lstm_wiseman_iwslt_de_en", "lstm_luong_wmt_en_de"])
def test_user_values_win_and_derived_values_follow_them(arch):
    given = dict(
        encoder_embed_dim=64,
        decoder_embed_dim=48,
        decoder_out_embed_dim=48,
        encoder_layers=2,
        decoder_layers=2,
        dropout=0.3,
        encoder_dropout_out=0.25,
        encoder_bidirectional=True,
    )
    cfg = resolve(arch, LSTMConfig, **given)
    for name, value in given.items():
        assert getattr(cfg, name) == value, name
    # the hidden sizes follow the user's embedding sizes, as in fairseq
    assert cfg.encoder_hidden_size == 64 and cfg.decoder_hidden_size == 48
    # --dropout feeds the granular dropouts the architecture does not fix itself
    if arch == "lstm":
        assert cfg.encoder_dropout_in == cfg.decoder_dropout_in == cfg.decoder_dropout_out == 0.3
    if arch == "lstm_wiseman_iwslt_de_en":
        assert (cfg.encoder_dropout_in, cfg.decoder_dropout_in) == (0, 0)
        assert cfg.decoder_dropout_out == 0.3
    if arch == "lstm_luong_wmt_en_de":
        assert (cfg.encoder_dropout_in, cfg.decoder_dropout_in) == (0.3, 0.3)
        assert cfg.decoder_dropout_out == 0


def test_lstm_lm_user_values_win():
    cfg = resolve("lstm_lm", LSTMLanguageModelConfig, decoder_embed_dim=32, dropout=0.2)
    assert cfg.decoder_embed_dim == cfg.decoder_hidden_size == 32
    assert cfg.decoder_out_embed_dim == 512
    assert cfg.decoder_dropout_in == cfg.decoder_dropout_out == 0.2


@dataclasses.dataclass
class _NarrowLSTMConfig(LSTMConfig):
    """LSTMConfig with other defaults, as an edit of config.py would make it."""

    encoder_embed_dim: int = 128
    dropout: float = 0.3


@dataclasses.dataclass
class _NarrowLSTMLanguageModelConfig(LSTMLanguageModelConfig):
    decoder_embed_dim: int = 64


def test_a_changed_dataclass_default_shows_under_the_base_architectures():
    """The dataclass is the single truth of the defaults and of what derives from them."""
    cfg = resolve("lstm", _NarrowLSTMConfig)
    assert cfg.encoder_embed_dim == cfg.encoder_hidden_size == 128
    assert cfg.dropout == cfg.encoder_dropout_in == cfg.decoder_dropout_out == 0.3
    cfg = resolve("lstm_wiseman_iwslt_de_en", _NarrowLSTMConfig)
    assert cfg.encoder_embed_dim == 256 and cfg.decoder_dropout_out == 0.3
    cfg = resolve("lstm_lm", _NarrowLSTMLanguageModelConfig)
    assert cfg.decoder_embed_dim == cfg.decoder_hidden_size == 64


# Every field of every architecture, as fairseq 0.12.2's architecture functions set them.
LSTM_BASE = dict(
    dropout=0.1,
    encoder_embed_dim=512,
    encoder_freeze_embed=False,
    encoder_hidden_size=512,
    encoder_layers=1,
    encoder_bidirectional=False,
    decoder_embed_dim=512,
    decoder_freeze_embed=False,
    decoder_hidden_size=512,
    decoder_layers=1,
    decoder_out_embed_dim=512,
    decoder_attention=True,
    share_decoder_input_output_embed=False,
    share_all_embeddings=False,
    encoder_dropout_in=0.1,
    encoder_dropout_out=0.1,
    decoder_dropout_in=0.1,
    decoder_dropout_out=0.1,
    max_source_positions=1024,
    max_target_positions=1024,
)
EVERY_VALUE = {
    "lstm": (LSTMConfig, LSTM_BASE),
    "lstm_wiseman_iwslt_de_en": (
        LSTMConfig,
        dict(
            LSTM_BASE,
            encoder_embed_dim=256,
            encoder_hidden_size=256,
            encoder_dropout_in=0.0,
            encoder_dropout_out=0.0,
            decoder_embed_dim=256,
            decoder_hidden_size=256,
            decoder_out_embed_dim=256,
            decoder_dropout_in=0.0,
        ),
    ),
    "lstm_luong_wmt_en_de": (
        LSTMConfig,
        dict(
            LSTM_BASE,
            encoder_embed_dim=1000,
            encoder_hidden_size=1000,
            encoder_layers=4,
            encoder_dropout_out=0.0,
            decoder_embed_dim=1000,
            decoder_hidden_size=1000,
            decoder_layers=4,
            decoder_out_embed_dim=1000,
            decoder_dropout_out=0.0,
        ),
    ),
    "lstm_lm": (
        LSTMLanguageModelConfig,
        dict(
            dropout=0.1,
            decoder_embed_dim=512,
            decoder_hidden_size=512,
            decoder_layers=1,
            decoder_out_embed_dim=512,
            decoder_attention=False,
            residuals=False,
            decoder_dropout_in=0.1,
            decoder_dropout_out=0.1,
            share_decoder_input_output_embed=False,
            max_target_positions=1024,
        ),
    ),
}


@pytest.mark.parametrize("arch", sorted(EVERY_VALUE))
def test_every_value_of_every_architecture_is_fairseqs(arch):
    config_class, expected = EVERY_VALUE[arch]
    assert dataclasses.asdict(resolve(arch, config_class)) == expected
