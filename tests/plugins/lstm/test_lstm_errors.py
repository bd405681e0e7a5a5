"""Impossible settings are ConfigErrors whose one line names the flag and the reason."""

import pytest

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore_lstm import LSTMConfig, LSTMLanguageModelConfig, LSTMModel


def lstm_config(**values):
    return make_config(LSTMConfig, "lstm", values)


@pytest.mark.parametrize(
    "name",
    ["dropout", "encoder_dropout_in", "encoder_dropout_out", "decoder_dropout_in"],
)
def test_negative_dropout(name):
    with pytest.raises(ConfigError) as e:
        lstm_config(**{name: -0.1})
    msg = str(e.value)
    assert "--" + name.replace("_", "-") + " -0.1" in msg and "between 0 and 1" in msg
    assert "\n" not in msg


def test_negative_dropout_lstm_lm():
    with pytest.raises(ConfigError, match=r"--decoder-dropout-out -0\.5 .*between 0 and 1"):
        make_config(LSTMLanguageModelConfig, "lstm_lm", {"decoder_dropout_out": -0.5})


def test_share_decoder_input_output_embed_needs_equal_sizes():
    with pytest.raises(ConfigError) as e:
        lstm_config(decoder_embed_dim=64, decoder_out_embed_dim=32,
                    share_decoder_input_output_embed=True)  # fmt: skip
    msg = str(e.value)
    assert msg.startswith("--share-decoder-input-output-embed requires")
    assert "--decoder-out-embed-dim 32" in msg and "--decoder-embed-dim 64" in msg
    with pytest.raises(ConfigError, match="--share-decoder-input-output-embed requires"):
        make_config(
            LSTMLanguageModelConfig,
            "lstm_lm",
            {"decoder_embed_dim": 16, "share_decoder_input_output_embed": True},
        )


def test_share_all_embeddings_needs_joint_dictionary(task):
    cfg = lstm_config(encoder_embed_dim=8, decoder_embed_dim=8, decoder_out_embed_dim=8,
                      share_all_embeddings=True)  # fmt: skip
    with pytest.raises(ConfigError) as e:
        LSTMModel.build_model(cfg, task)
    msg = str(e.value)
    assert msg.startswith("--share-all-embeddings requires a joint dictionary")
    assert "differ" in msg


def test_share_all_embeddings_accepts_equal_dictionaries(helpers):
    """Two dictionaries with the same symbols count as one joint dictionary."""
    words = "x y z"
    task = helpers.Task(helpers.make_dictionary(words), helpers.make_dictionary(words))
    cfg = lstm_config(encoder_embed_dim=8, decoder_embed_dim=8, decoder_out_embed_dim=8,
                      share_all_embeddings=True)  # fmt: skip
    model = LSTMModel.build_model(cfg, task)
    assert model.encoder.embed_tokens is model.decoder.embed_tokens


def test_share_all_embeddings_needs_equal_sizes():
    with pytest.raises(ConfigError, match="--share-all-embeddings requires --encoder-embed-dim"):
        lstm_config(encoder_embed_dim=8, decoder_embed_dim=16, share_all_embeddings=True)
    with pytest.raises(ConfigError, match="--share-all-embeddings requires --decoder-out-embed"):
        lstm_config(encoder_embed_dim=8, decoder_embed_dim=8, share_all_embeddings=True)


def test_layer_counts_must_match():
    with pytest.raises(ConfigError, match="--encoder-layers 2 must match --decoder-layers 1"):
        lstm_config(encoder_layers=2)


def test_sizes_must_be_positive():
    with pytest.raises(ConfigError, match="--encoder-hidden-size 0 must be at least 1"):
        lstm_config(encoder_hidden_size=0)


def test_lstm_lm_refuses_attention():
    with pytest.raises(ConfigError, match="--decoder-attention is not supported by lstm_lm"):
        make_config(LSTMLanguageModelConfig, "lstm_lm", {"decoder_attention": True})
