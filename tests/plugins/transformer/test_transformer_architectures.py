"""Named architectures set fairseq's values, and values the user gave always win."""

from __future__ import annotations

import dataclasses
import types

import pytest

import seqcore_transformer as st
from seqcore.config import Component, make_config
from seqcore.config.resolve import apply_architecture
from seqcore.registry import ARCHITECTURES
from seqcore_transformer import TransformerConfig, TransformerLanguageModelConfig

# fairseq 0.12.2's values (transformer_legacy.py, transformer_lm.py).
BASE = dict(
    encoder_embed_dim=512,
    encoder_ffn_embed_dim=2048,
    encoder_attention_heads=8,
    encoder_layers=6,
    decoder_embed_dim=512,
    decoder_ffn_embed_dim=2048,
    decoder_attention_heads=8,
    decoder_layers=6,
    dropout=0.1,
    attention_dropout=0.0,
    activation_dropout=0.0,
    activation_fn="relu",
    encoder_normalize_before=False,
    decoder_normalize_before=False,
    encoder_learned_pos=False,
    decoder_learned_pos=False,
    share_decoder_input_output_embed=False,
    share_all_embeddings=False,
    no_scale_embedding=False,
    layernorm_embedding=False,
    no_token_positional_embeddings=False,
    decoder_output_dim=512,
)
# and the fields fairseq's table does not vary, for the full comparison below
REST = dict(
    encoder_layerdrop=0.0,
    decoder_layerdrop=0.0,
    no_decoder_final_norm=False,
    max_source_positions=1024,
    max_target_positions=1024,
    checkpoint_activations=False,
)
LM_REST = dict(
    activation_dropout=0.0,
    decoder_layerdrop=0.0,
    no_scale_embedding=False,
    layernorm_embedding=False,
    no_token_positional_embeddings=False,
    max_target_positions=1024,
    checkpoint_activations=False,
)
BIG = dict(
    BASE,
    encoder_embed_dim=1024,
    encoder_ffn_embed_dim=4096,
    encoder_attention_heads=16,
    decoder_embed_dim=1024,
    decoder_ffn_embed_dim=4096,
    decoder_attention_heads=16,
    decoder_output_dim=1024,
)
TRANSLATION = {
    "transformer": BASE,
    "transformer_wmt_en_de": BASE,
    "transformer_iwslt_de_en": dict(
        BASE,
        encoder_ffn_embed_dim=1024,
        encoder_attention_heads=4,
        decoder_ffn_embed_dim=1024,
        decoder_attention_heads=4,
    ),
    "transformer_vaswani_wmt_en_de_big": dict(BIG, dropout=0.3),
    "transformer_vaswani_wmt_en_fr_big": dict(BIG, dropout=0.1),
    "transformer_wmt_en_de_big": dict(BIG, dropout=0.3, attention_dropout=0.1),
}
LM_BASE = dict(
    decoder_embed_dim=512,
    decoder_ffn_embed_dim=2048,
    decoder_layers=6,
    decoder_attention_heads=8,
    dropout=0.1,
    attention_dropout=0.0,
    activation_fn="relu",
    decoder_normalize_before=True,
    no_decoder_final_norm=False,
    decoder_learned_pos=False,
    share_decoder_input_output_embed=False,
    decoder_output_dim=512,
    decoder_input_dim=512,  # fairseq: --decoder-embed-dim unless given
)
LANGUAGE_MODEL = {
    "transformer_lm": LM_BASE,
    "transformer_lm_big": dict(
        LM_BASE,
        decoder_layers=12,
        decoder_embed_dim=1024,
        decoder_ffn_embed_dim=4096,
        decoder_attention_heads=16,
        decoder_output_dim=1024,
        decoder_input_dim=1024,
    ),
    "transformer_lm_gpt": dict(
        LM_BASE,
        decoder_embed_dim=768,
        decoder_ffn_embed_dim=3072,
        decoder_layers=12,
        decoder_attention_heads=12,
        attention_dropout=0.1,
        activation_fn="gelu",
        decoder_output_dim=768,
        decoder_input_dim=768,
    ),
}


def arch_fn(name):
    return ARCHITECTURES.get(name).obj


@pytest.mark.parametrize("name", sorted(TRANSLATION))
def test_translation_architectures(helpers, name):
    assert ARCHITECTURES.get(name).extra["model"] == "transformer"
    cfg = helpers.resolve(name)
    for key, value in TRANSLATION[name].items():
        assert getattr(cfg, key) == value, key


@pytest.mark.parametrize("name", sorted(LANGUAGE_MODEL))
def test_language_model_architectures(helpers, name):
    assert ARCHITECTURES.get(name).extra["model"] == "transformer_lm"
    cfg = helpers.resolve(name)
    for key, value in LANGUAGE_MODEL[name].items():
        assert getattr(cfg, key) == value, key


def test_architecture_functions_are_importable():
    assert arch_fn("transformer") is st.base_architecture
    assert arch_fn("transformer_iwslt_de_en") is st.transformer_iwslt_de_en
    assert arch_fn("transformer_wmt_en_de_big") is st.transformer_wmt_en_de_big
    assert arch_fn("transformer_lm") is st.base_lm_architecture
    assert arch_fn("transformer_lm_gpt") is st.transformer_lm_gpt


@pytest.mark.parametrize("name", sorted(TRANSLATION))
def test_user_values_win(helpers, name):
    """Flags given by the user beat the architecture's values (and the defaults)."""
    given = dict(
        dropout=0.25,
        encoder_embed_dim=256,
        encoder_attention_heads=2,
        decoder_layers=3,
        activation_fn="gelu",
        share_decoder_input_output_embed=True,
    )
    cfg = helpers.resolve(name, given)
    for key, value in given.items():
        assert getattr(cfg, key) == value, key
    # what the user did not give still comes from the architecture
    assert cfg.decoder_ffn_embed_dim == TRANSLATION[name]["decoder_ffn_embed_dim"]


def test_decoder_follows_encoder_in_the_base_architecture(helpers):
    """fairseq: decoder dims default to the encoder's (but iwslt names them explicitly)."""
    given = dict(encoder_embed_dim=256, encoder_ffn_embed_dim=1024)
    cfg = helpers.resolve("transformer", given)
    assert (cfg.decoder_embed_dim, cfg.decoder_ffn_embed_dim, cfg.decoder_output_dim) == (
        256,
        1024,
        256,
    )
    cfg = helpers.resolve("transformer_iwslt_de_en", given)
    assert cfg.decoder_embed_dim == 512


def test_language_model_post_norm_when_asked(helpers):
    given = {"decoder_normalize_before": False, "dropout": 0.0}
    cfg = helpers.resolve("transformer_lm_gpt", given)
    assert cfg.decoder_normalize_before is False and cfg.dropout == 0.0
    assert cfg.attention_dropout == 0.1


def test_built_model_follows_the_architecture(helpers):
    cfg = helpers.resolve("transformer_iwslt_de_en", {"encoder_layers": 1, "decoder_layers": 1})
    model = helpers.build(cfg)
    assert len(model.encoder.layers) == len(model.decoder.layers) == 1
    layer = model.encoder.layers[0]
    assert layer.self_attn.num_heads == 4 and layer.fc1.out_features == 1024
    assert model.max_positions() == (1024, 1024)


@pytest.mark.parametrize("name", sorted(TRANSLATION) + sorted(LANGUAGE_MODEL))
def test_every_value_of_every_architecture_is_fairseqs(helpers, name):
    """The whole resolved config, field by field: the same values as fairseq's architecture
    functions give (the table above), whether a value comes from the architecture or from the
    dataclass."""
    cfg = helpers.resolve(name)
    if name in TRANSLATION:
        expected = {**TRANSLATION[name], **REST}
    else:
        expected = {**LANGUAGE_MODEL[name], **LM_REST}
    assert dataclasses.asdict(cfg) == expected


@pytest.mark.parametrize(
    "name, given, decoder",
    [
        ("transformer", dict(encoder_embed_dim=256), (256, 2048, 256)),
        ("transformer", dict(encoder_ffn_embed_dim=64), (512, 64, 512)),
        ("transformer", dict(decoder_embed_dim=128), (128, 2048, 128)),
        ("transformer_wmt_en_de", dict(encoder_embed_dim=256), (256, 2048, 256)),
        ("transformer_iwslt_de_en", dict(encoder_embed_dim=256), (512, 1024, 512)),
        ("transformer_vaswani_wmt_en_de_big", dict(encoder_embed_dim=512), (1024, 4096, 1024)),
        ("transformer_wmt_en_de_big", dict(decoder_embed_dim=512), (512, 4096, 512)),
    ],
)
def test_decoder_dimensions_with_given_values(helpers, name, given, decoder):
    """Where the decoder's dimensions follow the encoder's and where an architecture names
    them (fairseq's rule)."""
    cfg = helpers.resolve(name, given)
    assert (cfg.decoder_embed_dim, cfg.decoder_ffn_embed_dim, cfg.decoder_output_dim) == decoder


@pytest.mark.parametrize("name", sorted(TRANSLATION) + sorted(LANGUAGE_MODEL))
def test_architecture_functions_on_a_plain_namespace(name):
    """fairseq style: called on a namespace of given values, they set only fields of their
    model's config, leave the given ones alone, and with the dataclass make fairseq's values."""
    ns = types.SimpleNamespace(dropout=0.2)
    arch_fn(name)(ns)
    assert ns.dropout == 0.2
    config_class = TransformerConfig if name in TRANSLATION else TransformerLanguageModelConfig
    assert set(vars(ns)) <= {f.name for f in dataclasses.fields(config_class)}
    cfg = config_class(**vars(ns))
    expected = TRANSLATION.get(name) or LANGUAGE_MODEL[name]
    for key, value in expected.items():
        if key != "dropout":
            assert getattr(cfg, key) == value, key


@dataclasses.dataclass
class _ShallowTransformerConfig(TransformerConfig):
    """TransformerConfig with other defaults, as an edit of config.py would make it."""

    encoder_layers: int = 3
    encoder_embed_dim: int = 256
    dropout: float = 0.2


@pytest.mark.parametrize(
    "name", ["transformer", "transformer_wmt_en_de", "transformer_iwslt_de_en"]
)
def test_a_changed_dataclass_default_shows_under_the_architectures(name):
    """The dataclass is the single truth of the defaults: an architecture that does not change a
    field leaves it to the dataclass (and what derives from it follows)."""
    component = Component("model", "transformer", _ShallowTransformerConfig)
    values = apply_architecture(ARCHITECTURES.get(name), component, {})
    cfg = make_config(_ShallowTransformerConfig, "transformer", values)
    assert (cfg.encoder_layers, cfg.encoder_embed_dim, cfg.dropout) == (3, 256, 0.2)
    if name != "transformer_iwslt_de_en":  # which names its decoder's width
        assert cfg.decoder_embed_dim == cfg.decoder_output_dim == 256
