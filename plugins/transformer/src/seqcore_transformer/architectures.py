"""Named architectures of ``transformer`` and ``transformer_lm``, with fairseq's values.

The dataclasses in :mod:`seqcore_transformer.config` hold the defaults (fairseq's base
architectures) and what derives from other fields (the decoder's dimensions from the encoder's,
the output dimension from the embedding's). Each function here fills only what its architecture
changes, fairseq style: it receives a namespace holding the values the user gave and sets
``cfg.x = getattr(cfg, "x", value)``, so flags always win. A value equal to a default is set
only where it stops a derivation (``transformer_iwslt_de_en``'s decoder stays 512 wide under
``--encoder-embed-dim 256``) or overrides an architecture called after it.
"""

from __future__ import annotations

from typing import Any

from seqcore.models import register_model_architecture


@register_model_architecture("transformer", "transformer")
def base_architecture(cfg: Any) -> None:
    """fairseq's ``transformer``: the dataclass defaults as they are (512 wide, 6 + 6 layers)."""


@register_model_architecture("transformer", "transformer_iwslt_de_en")
def transformer_iwslt_de_en(cfg: Any) -> None:
    cfg.encoder_ffn_embed_dim = getattr(cfg, "encoder_ffn_embed_dim", 1024)
    cfg.encoder_attention_heads = getattr(cfg, "encoder_attention_heads", 4)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 512)  # not the encoder's
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 1024)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 4)
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
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 1024)  # not the encoder's
    cfg.decoder_ffn_embed_dim = getattr(cfg, "decoder_ffn_embed_dim", 4096)
    cfg.decoder_attention_heads = getattr(cfg, "decoder_attention_heads", 16)
    cfg.dropout = getattr(cfg, "dropout", 0.3)
    base_architecture(cfg)


@register_model_architecture("transformer", "transformer_vaswani_wmt_en_fr_big")
def transformer_vaswani_wmt_en_fr_big(cfg: Any) -> None:
    cfg.dropout = getattr(cfg, "dropout", 0.1)  # before the en-de big's 0.3
    transformer_vaswani_wmt_en_de_big(cfg)


@register_model_architecture("transformer", "transformer_wmt_en_de_big")
def transformer_wmt_en_de_big(cfg: Any) -> None:
    cfg.attention_dropout = getattr(cfg, "attention_dropout", 0.1)
    transformer_vaswani_wmt_en_de_big(cfg)


@register_model_architecture("transformer_lm", "transformer_lm")
def base_lm_architecture(cfg: Any) -> None:
    """fairseq's ``transformer_lm``: the dataclass defaults, with pre-norm layers."""
    # fairseq forces pre-norm here ("training is not stable without this"); seqcore lets an
    # explicit --no-decoder-normalize-before win, as every other flag does.
    cfg.decoder_normalize_before = getattr(cfg, "decoder_normalize_before", True)


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
    cfg.attention_dropout = getattr(cfg, "attention_dropout", 0.1)
    cfg.activation_fn = getattr(cfg, "activation_fn", "gelu")
    base_lm_architecture(cfg)
