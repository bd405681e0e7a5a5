"""Named architectures of ``transformer`` and ``transformer_lm``, with fairseq's values.

Each function receives a namespace holding only what the user gave and fills the rest,
``cfg.x = getattr(cfg, "x", default)``, so flags always win. Dimensions of the decoder default to
the encoder's, as in fairseq.
"""

from __future__ import annotations

from typing import Any

from seqcore.models import register_model_architecture


@register_model_architecture("transformer", "transformer")
def base_architecture(cfg: Any) -> None:
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 512)
    cfg.encoder_ffn_embed_dim = getattr(cfg, "encoder_ffn_embed_dim", 2048)
    cfg.encoder_layers = getattr(cfg, "encoder_layers", 6)
    cfg.encoder_attention_heads = getattr(cfg, "encoder_attention_heads", 8)
    cfg.encoder_normalize_before = getattr(cfg, "encoder_normalize_before", False)
    cfg.encoder_learned_pos = getattr(cfg, "encoder_learned_pos", False)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", cfg.encoder_embed_dim)
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", cfg.encoder_ffn_embed_dim)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 6)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 8)
    cfg.decoder_normalize_before = getattr(cfg, "decoder_normalize_before", False)
    cfg.decoder_learned_pos = getattr(cfg, "decoder_learned_pos", False)
    cfg.attention_dropout = getattr(cfg, "attention_dropout", 0.0)
    cfg.activation_dropout = getattr(cfg, "activation_dropout", 0.0)
    cfg.activation_fn = getattr(cfg, "activation_fn", "relu")
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    cfg.share_decoder_input_output_embed = getattr(cfg, "share_decoder_input_output_embed", False)
    cfg.share_all_embeddings = getattr(cfg, "share_all_embeddings", False)
    cfg.no_token_positional_embeddings = getattr(cfg, "no_token_positional_embeddings", False)
    cfg.decoder_output_dim = getattr(cfg, "decoder_output_dim", cfg.decoder_embed_dim)
    cfg.no_scale_embedding = getattr(cfg, "no_scale_embedding", False)
    cfg.layernorm_embedding = getattr(cfg, "layernorm_embedding", False)


@register_model_architecture("transformer", "transformer_iwslt_de_en")
def transformer_iwslt_de_en(cfg: Any) -> None:
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 512)
    cfg.encoder_ffn_embed_dim = getattr(cfg, "encoder_ffn_embed_dim", 1024)
    cfg.encoder_attention_heads = getattr(cfg, "encoder_attention_heads", 4)
    cfg.encoder_layers = getattr(cfg, "encoder_layers", 6)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 512)
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 1024)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 4)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 6)
    base_architecture(cfg)


@register_model_architecture("transformer", "transformer_wmt_en_de")
def transformer_wmt_en_de(cfg: Any) -> None:
    base_architecture(cfg)


# The parameters of "Attention Is All You Need" (Vaswani et al., 2017).
@register_model_architecture("transformer", "transformer_vaswani_wmt_en_de_big")
def transformer_vaswani_wmt_en_de_big(cfg: Any) -> None:
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 1024)
    cfg.encoder_ffn_embed_dim = getattr(cfg, "encoder_ffn_embed_dim", 4096)
    cfg.encoder_attention_heads = getattr(cfg, "encoder_attention_heads", 16)
    cfg.encoder_normalize_before = getattr(cfg, "encoder_normalize_before", False)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 1024)
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 4096)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 16)
    cfg.dropout = getattr(cfg, "dropout", 0.3)
    base_architecture(cfg)


@register_model_architecture("transformer", "transformer_vaswani_wmt_en_fr_big")
def transformer_vaswani_wmt_en_fr_big(cfg: Any) -> None:
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    transformer_vaswani_wmt_en_de_big(cfg)


@register_model_architecture("transformer", "transformer_wmt_en_de_big")
def transformer_wmt_en_de_big(cfg: Any) -> None:
    cfg.attention_dropout = getattr(cfg, "attention_dropout", 0.1)
    transformer_vaswani_wmt_en_de_big(cfg)


@register_model_architecture("transformer_lm", "transformer_lm")
def base_lm_architecture(cfg: Any) -> None:
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    cfg.attention_dropout = getattr(cfg, "attention_dropout", 0.0)
    cfg.activation_dropout = getattr(cfg, "activation_dropout", 0.0)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 512)
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 2048)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 6)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 8)
    cfg.decoder_learned_pos = getattr(cfg, "decoder_learned_pos", False)
    cfg.activation_fn = getattr(cfg, "activation_fn", "relu")
    cfg.no_token_positional_embeddings = getattr(cfg, "no_token_positional_embeddings", False)
    cfg.share_decoder_input_output_embed = getattr(cfg, "share_decoder_input_output_embed", False)
    cfg.decoder_output_dim = getattr(cfg, "decoder_output_dim", cfg.decoder_embed_dim)
    cfg.decoder_input_dim = getattr(cfg, "decoder_input_dim", cfg.decoder_embed_dim)
    # fairseq forces pre-norm here ("training is not stable without this"); seqcore lets an
    # explicit --no-decoder-normalize-before win, as every other flag does.
    cfg.decoder_normalize_before = getattr(cfg, "decoder_normalize_before", True)
    cfg.no_decoder_final_norm = getattr(cfg, "no_decoder_final_norm", False)
    cfg.no_scale_embedding = getattr(cfg, "no_scale_embedding", False)
    cfg.layernorm_embedding = getattr(cfg, "layernorm_embedding", False)


@register_model_architecture("transformer_lm", "transformer_lm_big")
def transformer_lm_big(cfg: Any) -> None:
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 12)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 1024)
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 4096)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 16)
    base_lm_architecture(cfg)


@register_model_architecture("transformer_lm", "transformer_lm_gpt")
def transformer_lm_gpt(cfg: Any) -> None:
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 768)
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 3072)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 12)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 12)
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    cfg.attention_dropout = getattr(cfg, "attention_dropout", 0.1)
    cfg.activation_fn = getattr(cfg, "activation_fn", "gelu")
    base_lm_architecture(cfg)
