"""Parameter counts against the formula of fairseq's Transformer, written out here."""

from __future__ import annotations

import pytest

from seqcore_transformer import TransformerModel


def attention(d: int) -> int:
    return 4 * (d * d + d)  # q, k, v and output projections with biases


def ffn(d: int, f: int) -> int:
    return d * f + f + f * d + d


def encoder_layer(d: int, f: int) -> int:
    return attention(d) + 2 * (2 * d) + ffn(d, f)


def decoder_layer(d: int, f: int) -> int:
    return 2 * attention(d) + 3 * (2 * d) + ffn(d, f)


def formula(
    layers: tuple[int, int],
    d: int,
    f: int,
    vocab: tuple[int, int],
    *,
    share_decoder_io: bool = False,
    share_all: bool = False,
    normalize_before: bool = False,
    learned_pos_rows: int = 0,
) -> int:
    enc_layers, dec_layers = layers
    src_v, tgt_v = vocab
    total = enc_layers * encoder_layer(d, f) + dec_layers * decoder_layer(d, f)
    if share_all:
        total += src_v * d  # one matrix: encoder input, decoder input, decoder output
    elif share_decoder_io:
        total += src_v * d + tgt_v * d
    else:
        total += src_v * d + 2 * tgt_v * d
    if normalize_before:
        total += 2 * (2 * d)  # the final layer norms of encoder and decoder
    total += 2 * learned_pos_rows * d
    return total


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


SMALL = dict(
    encoder_layers=2,
    decoder_layers=2,
    encoder_embed_dim=256,
    decoder_embed_dim=256,
    encoder_ffn_embed_dim=1024,
    decoder_ffn_embed_dim=1024,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
)


def test_facts_file_example(helpers):
    """2+2 layers, d=256, f=1024, vocabularies of 1,008 each, nothing shared: 4,460,544."""
    model = helpers.build(helpers.tiny_config(**SMALL), 1008, 1008)
    assert formula((2, 2), 256, 1024, (1008, 1008)) == 4_460_544
    assert count(model) == 4_460_544


@pytest.mark.parametrize("vocab", [(8848, 6632), (1000, 1000), (40000, 40000)])
def test_full_iwslt_de_en(helpers, vocab):
    cfg = helpers.resolve("transformer_iwslt_de_en")
    model = helpers.build(cfg, *vocab)
    assert count(model) == formula((6, 6), 512, 1024, vocab)


def test_iwslt_counts_literal(helpers):
    """Worked by hand for d=512, f=1024: attention 4(512^2 + 512) = 1,050,624; FFN
    512*1024 + 1024 + 1024*512 + 512 = 1,050,112; encoder layer 1,050,624 + 2,048 + 1,050,112 =
    2,102,784; decoder layer 2 x 1,050,624 + 3,072 + 1,050,112 = 3,154,432; with vocabularies of
    8,848 and 6,632: 6 x 2,102,784 + 6 x 3,154,432 + 512 x (8,848 + 2 x 6,632) = 42,864,640."""
    cfg = helpers.resolve("transformer_iwslt_de_en")
    model = helpers.build(cfg, 8848, 6632)
    assert encoder_layer(512, 1024) == 2_102_784
    assert decoder_layer(512, 1024) == 3_154_432
    assert count(model) == 42_864_640


def test_share_decoder_input_output_embed(helpers):
    cfg = helpers.tiny_config(**SMALL, share_decoder_input_output_embed=True)
    model = helpers.build(cfg, 1008, 1200)
    assert count(model) == formula((2, 2), 256, 1024, (1008, 1200), share_decoder_io=True)
    assert model.decoder.output_projection.weight is model.decoder.embed_tokens.weight


def test_share_all_embeddings(helpers):
    d = helpers.dictionary_of_size(1008)
    cfg = helpers.tiny_config(**SMALL, share_all_embeddings=True)
    model = TransformerModel.build_model(cfg, helpers.Task(d, d))
    assert count(model) == formula((2, 2), 256, 1024, (1008, 1008), share_all=True)
    assert model.encoder.embed_tokens is model.decoder.embed_tokens
    assert model.decoder.output_projection.weight is model.encoder.embed_tokens.weight


def test_share_all_embeddings_with_equal_but_distinct_dictionaries(helpers):
    """A joined dictionary loaded twice (two objects, same symbols) is still joined."""
    cfg = helpers.tiny_config(**SMALL, share_all_embeddings=True)
    task = helpers.Task(helpers.dictionary_of_size(1008), helpers.dictionary_of_size(1008))
    model = TransformerModel.build_model(cfg, task)
    assert count(model) == formula((2, 2), 256, 1024, (1008, 1008), share_all=True)


def test_pre_norm_adds_final_layer_norms(helpers):
    cfg = helpers.tiny_config(**SMALL, encoder_normalize_before=True, decoder_normalize_before=True)
    model = helpers.build(cfg, 1008, 1008)
    assert count(model) == formula((2, 2), 256, 1024, (1008, 1008), normalize_before=True)


def test_learned_positions(helpers):
    """fairseq sizes learned positions max_positions + padding_idx + 1 (padding_idx = 1)."""
    cfg = helpers.tiny_config(
        **SMALL,
        encoder_learned_pos=True,
        decoder_learned_pos=True,
        max_source_positions=100,
        max_target_positions=100,
    )
    model = helpers.build(cfg, 1008, 1008)
    assert model.encoder.embed_positions.weight.shape == (100 + 1 + 1, 256)
    assert count(model) == formula((2, 2), 256, 1024, (1008, 1008), learned_pos_rows=102)


def test_decoder_output_dim(helpers):
    cfg = helpers.tiny_config(**SMALL, decoder_output_dim=128)
    model = helpers.build(cfg, 1008, 1008)
    expected = formula((2, 2), 256, 1024, (1008, 1008)) - 1008 * 256 + 256 * 128 + 1008 * 128
    assert count(model) == expected


def test_language_model(helpers):
    """Decoder layers without encoder attention: self-attention, 2 layer norms, FFN; pre-norm
    adds the final layer norm; input and output embeddings."""
    cfg = helpers.tiny_lm_config(
        decoder_embed_dim=64,
        decoder_ffn_embed_dim=256,
        decoder_layers=3,
        decoder_attention_heads=4,
    )
    model = helpers.build_lm(cfg, 500)
    lm_layer = attention(64) + 2 * (2 * 64) + ffn(64, 256)
    assert count(model) == 3 * lm_layer + 2 * 64 + 2 * 500 * 64
    shared = helpers.build_lm(
        helpers.tiny_lm_config(
            decoder_embed_dim=64,
            decoder_ffn_embed_dim=256,
            decoder_layers=3,
            share_decoder_input_output_embed=True,
        ),
        500,
    )
    assert count(shared) == 3 * lm_layer + 2 * 64 + 500 * 64
