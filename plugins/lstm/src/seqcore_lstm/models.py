"""The ``lstm`` (encoder-decoder with attention) and ``lstm_lm`` (language model) models."""

from __future__ import annotations

from typing import Any

from seqcore.errors import ConfigError
from seqcore.models import EncoderDecoderModel, LanguageModel, register_model
from seqcore_lstm.config import LSTMConfig, LSTMLanguageModelConfig
from seqcore_lstm.decoder import LSTMDecoder
from seqcore_lstm.encoder import LSTMEncoder
from seqcore_lstm.layers import embedding


def same_vocabulary(a: Any, b: Any) -> bool:
    """Whether two dictionaries map the same symbols to the same indices (fairseq compares
    dictionaries with ``==``, which seqcore's Dictionary defines that way)."""
    return a is b or a == b


def freeze(module: Any) -> None:
    for param in module.parameters():
        param.requires_grad = False


@register_model("lstm", dataclass=LSTMConfig)
class LSTMModel(EncoderDecoderModel):
    """fairseq's ``lstm``: an LSTM encoder and an attentional, input-feeding LSTM decoder."""

    @classmethod
    def build_model(cls, cfg: LSTMConfig, task: Any) -> LSTMModel:
        src_dict, tgt_dict = task.source_dictionary, task.target_dictionary
        encoder_embed = embedding(len(src_dict), cfg.encoder_embed_dim, src_dict.pad())
        share_output = cfg.share_decoder_input_output_embed
        if cfg.share_all_embeddings:
            if not same_vocabulary(src_dict, tgt_dict):
                raise ConfigError(
                    "--share-all-embeddings requires a joint dictionary: the source and target "
                    "dictionaries differ"
                )
            decoder_embed = encoder_embed
            share_output = True
        else:
            decoder_embed = embedding(len(tgt_dict), cfg.decoder_embed_dim, tgt_dict.pad())
        if cfg.encoder_freeze_embed:
            freeze(encoder_embed)
        if cfg.decoder_freeze_embed:
            freeze(decoder_embed)

        encoder = LSTMEncoder(
            src_dict,
            embed_tokens=encoder_embed,
            hidden_size=cfg.encoder_hidden_size,
            num_layers=cfg.encoder_layers,
            dropout_in=cfg.encoder_dropout_in,
            dropout_out=cfg.encoder_dropout_out,
            bidirectional=cfg.encoder_bidirectional,
            max_source_positions=cfg.max_source_positions,
        )
        decoder = LSTMDecoder(
            tgt_dict,
            embed_tokens=decoder_embed,
            hidden_size=cfg.decoder_hidden_size,
            out_embed_dim=cfg.decoder_out_embed_dim,
            num_layers=cfg.decoder_layers,
            dropout_in=cfg.decoder_dropout_in,
            dropout_out=cfg.decoder_dropout_out,
            attention=cfg.decoder_attention,
            encoder_output_units=encoder.output_units,
            share_input_output_embed=share_output,
            max_target_positions=cfg.max_target_positions,
        )
        return cls(encoder, decoder)


@register_model("lstm_lm", dataclass=LSTMLanguageModelConfig)
class LSTMLanguageModel(LanguageModel):
    """fairseq's ``lstm_lm``: the LSTM decoder alone, without attention or input feeding."""

    @classmethod
    def build_model(cls, cfg: LSTMLanguageModelConfig, task: Any) -> LSTMLanguageModel:
        # fairseq's lstm_lm embeds and predicts over the task's whole dictionary, also when the
        # task cuts its output dictionary (--output-dictionary-size)
        dictionary = getattr(task, "dictionary", None)
        if dictionary is None:
            dictionary = task.target_dictionary
        decoder = LSTMDecoder(
            dictionary,
            embed_dim=cfg.decoder_embed_dim,
            hidden_size=cfg.decoder_hidden_size,
            out_embed_dim=cfg.decoder_out_embed_dim,
            num_layers=cfg.decoder_layers,
            dropout_in=cfg.decoder_dropout_in,
            dropout_out=cfg.decoder_dropout_out,
            attention=False,
            encoder_output_units=0,
            share_input_output_embed=cfg.share_decoder_input_output_embed,
            residuals=cfg.residuals,
            max_target_positions=cfg.max_target_positions,
        )
        return cls(decoder)
