"""Impossible settings are one-line ConfigErrors naming the flag at fault."""

from __future__ import annotations

import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore_transformer import (
    TransformerConfig,
    TransformerLanguageModelConfig,
    TransformerModel,
)


def error_of(config_class, **values) -> str:
    with pytest.raises(ConfigError) as info:
        make_config(config_class, "x", values)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_embed_dim_not_divisible_by_heads():
    msg = error_of(TransformerConfig, encoder_embed_dim=250, encoder_attention_heads=4)
    assert msg == "--encoder-embed-dim 250 must be divisible by --encoder-attention-heads 4"
    msg = error_of(TransformerConfig, decoder_embed_dim=512, decoder_attention_heads=5)
    assert "--decoder-embed-dim 512" in msg and "--decoder-attention-heads 5" in msg
    msg = error_of(TransformerLanguageModelConfig, decoder_embed_dim=100, decoder_attention_heads=3)
    assert "--decoder-embed-dim 100" in msg


@pytest.mark.parametrize("flag", ["dropout", "attention_dropout", "activation_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5])
def test_bad_dropout(flag, value):
    msg = error_of(TransformerConfig, **{flag: value})
    assert msg.startswith(f"--{flag.replace('_', '-')} {value}") and "[0, 1)" in msg
    msg = error_of(TransformerLanguageModelConfig, **{flag: value})
    assert msg.startswith(f"--{flag.replace('_', '-')} {value}")


def test_non_positive_sizes():
    assert "--encoder-attention-heads 0" in error_of(TransformerConfig, encoder_attention_heads=0)
    assert "--decoder-ffn-embed-dim -1" in error_of(TransformerConfig, decoder_ffn_embed_dim=-1)
    assert "--encoder-layers -2" in error_of(TransformerConfig, encoder_layers=-2)


def test_share_all_embeddings_with_different_embed_dims():
    msg = error_of(
        TransformerConfig, share_all_embeddings=True, encoder_embed_dim=512, decoder_embed_dim=256
    )
    assert "--share-all-embeddings" in msg
    assert "--encoder-embed-dim (512)" in msg and "--decoder-embed-dim (256)" in msg


def test_shared_output_projection_needs_the_embedding_width():
    msg = error_of(TransformerConfig, share_decoder_input_output_embed=True, decoder_output_dim=256)
    assert "--share-decoder-input-output-embed" in msg and "--decoder-output-dim (256)" in msg


def test_share_all_embeddings_with_different_dictionaries(helpers):
    cfg = helpers.tiny_config(share_all_embeddings=True)
    task = helpers.Task(helpers.dictionary_of_size(40, "s"), helpers.dictionary_of_size(40, "t"))
    with pytest.raises(ConfigError) as info:
        TransformerModel.build_model(cfg, task)
    assert str(info.value).startswith("--share-all-embeddings requires a joined dictionary")
    task = helpers.Task(helpers.dictionary_of_size(40), helpers.dictionary_of_size(48))
    with pytest.raises(ConfigError, match="40 symbols.*48 symbols"):
        TransformerModel.build_model(cfg, task)


def test_defaults_are_valid():
    cfg = make_config(TransformerConfig, "transformer")
    assert cfg.decoder_output_dim == cfg.decoder_embed_dim == 512
    assert make_config(TransformerLanguageModelConfig, "transformer_lm").decoder_output_dim == 512
