"""fairseq's named architectures of the ``lstm`` and ``lstm_lm`` models.

The dataclasses in :mod:`seqcore_lstm.config` hold fairseq's base architectures as their
defaults, and fill options that default to another option (``--encoder-hidden-size`` from
``--encoder-embed-dim``, the ``--*-dropout-in/out`` from ``--dropout``) from that option's final
value. Each function here fills only what its architecture changes, fairseq style: it receives a
namespace holding the values the user gave and sets ``cfg.x = getattr(cfg, "x", value)``, so
user values always win.
"""

from __future__ import annotations

from typing import Any

from seqcore.models import register_model_architecture


@register_model_architecture("lstm", "lstm")
def lstm_base_architecture(cfg: Any) -> None:
    """fairseq's ``lstm``: the dataclass defaults as they are (512 wide, one layer, attention)."""


@register_model_architecture("lstm", "lstm_wiseman_iwslt_de_en")
def lstm_wiseman_iwslt_de_en(cfg: Any) -> None:
    cfg.encoder_embed_dim = getattr(cfg, "encoder_embed_dim", 256)
    cfg.encoder_dropout_in = getattr(cfg, "encoder_dropout_in", 0.0)
    cfg.encoder_dropout_out = getattr(cfg, "encoder_dropout_out", 0.0)
    cfg.decoder_embed_dim = getattr(cfg, "decoder_embed_dim", 256)
    cfg.decoder_out_embed_dim = getattr(cfg, "decoder_out_embed_dim", 256)
    cfg.decoder_dropout_in = getattr(cfg, "decoder_dropout_in", 0.0)
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
    """fairseq's ``lstm_lm``: the dataclass defaults as they are (512 wide, one layer)."""
