"""fairseq's named architectures of the ``lstm`` and ``lstm_lm`` models.

Each function receives a namespace holding only the values the user gave and fills the others
fairseq style, so user values always win. Options that default to another option
(``--encoder-hidden-size`` to ``--encoder-embed-dim``, ``--*-dropout-in/out`` to ``--dropout``)
are filled from that option's final value, as fairseq's ``base_architecture`` does.
"""

from __future__ import annotations

from typing import Any

from seqcore.models import register_model_architecture


@register_model_architecture("lstm", "lstm")
def lstm_base_architecture(cfg: Any) -> None:
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 512)
    cfg.encoder_freeze_embed = getattr(cfg, "encoder_freeze_embed", False)
    cfg.encoder_hidden_size = getattr(cfg, "encoder_hidden_size", cfg.encoder_embed_dim)
    cfg.encoder_layers = getattr(cfg, "encoder_layers", 1)
    cfg.encoder_bidirectional = getattr(cfg, "encoder_bidirectional", False)
    cfg.encoder_dropout_in = getattr(cfg, "encoder_dropout_in", cfg.dropout)
    cfg.encoder_dropout_out = getattr(cfg, "encoder_dropout_out", cfg.dropout)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 512)
    cfg.decoder_freeze_embed = getattr(cfg, "decoder_freeze_embed", False)
    cfg.decoder_hidden_size = getattr(cfg, "decoder_hidden_size", cfg.decoder_embed_dim)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 1)
    cfg.decoder_out_embed_dim = getattr(cfg, "decoder_out_embed_dim", 512)
    cfg.decoder_attention = getattr(cfg, "decoder_attention", True)
    cfg.decoder_dropout_in = getattr(cfg, "decoder_dropout_in", cfg.dropout)
    cfg.decoder_dropout_out = getattr(cfg, "decoder_dropout_out", cfg.dropout)
    cfg.share_decoder_input_output_embed = getattr(cfg, "share_decoder_input_output_embed", False)
    cfg.share_all_embeddings = getattr(cfg, "share_all_embeddings", False)


@register_model_architecture("lstm", "lstm_wiseman_iwslt_de_en")
def lstm_wiseman_iwslt_de_en(cfg: Any) -> None:
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 256)
    cfg.encoder_dropout_in = getattr(cfg, "encoder_dropout_in", 0.0)
    cfg.encoder_dropout_out = getattr(cfg, "encoder_dropout_out", 0.0)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 256)
    cfg.decoder_out_embed_dim = getattr(cfg, "decoder_out_embed_dim", 256)
    cfg.decoder_dropout_in = getattr(cfg, "decoder_dropout_in", 0.0)
    cfg.decoder_dropout_out = getattr(cfg, "decoder_dropout_out", cfg.dropout)
    lstm_base_architecture(cfg)


@register_model_architecture("lstm", "lstm_luong_wmt_en_de")
def lstm_luong_wmt_en_de(cfg: Any) -> None:
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 1000)
    cfg.encoder_layers = getattr(cfg, "encoder_layers", 4)
    cfg.encoder_dropout_out = getattr(cfg, "encoder_dropout_out", 0.0)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 1000)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 4)
    cfg.decoder_out_embed_dim = getattr(cfg, "decoder_out_embed_dim", 1000)
    cfg.decoder_dropout_out = getattr(cfg, "decoder_dropout_out", 0.0)
    lstm_base_architecture(cfg)


@register_model_architecture("lstm_lm", "lstm_lm")
def lstm_lm_base_architecture(cfg: Any) -> None:
    cfg.dropout = getattr(cfg, "dropout", 0.1)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 512)
    cfg.decoder_hidden_size = getattr(cfg, "decoder_hidden_size", cfg.decoder_embed_dim)
    cfg.decoder_layers = getattr(cfg, "decoder_layers", 1)
    cfg.decoder_out_embed_dim = getattr(cfg, "decoder_out_embed_dim", 512)
    cfg.decoder_attention = getattr(cfg, "decoder_attention", False)
    cfg.decoder_dropout_in = getattr(cfg, "decoder_dropout_in", cfg.dropout)
    cfg.decoder_dropout_out = getattr(cfg, "decoder_dropout_out", cfg.dropout)
    cfg.share_decoder_input_output_embed = getattr(cfg, "share_decoder_input_output_embed", False)
    cfg.residuals = getattr(cfg, "residuals", False)
