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
