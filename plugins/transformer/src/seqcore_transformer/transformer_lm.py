"""The Transformer language model, as fairseq's ``transformer_lm``: a decoder without
encoder-decoder attention, pre-norm in every one of fairseq's architectures."""

from __future__ import annotations

from typing import Any

from seqcore.models import LanguageModel, register_model
from seqcore_transformer.config import TransformerLanguageModelConfig
from seqcore_transformer.transformer import Embedding, TransformerDecoder


@register_model("transformer_lm", dataclass=TransformerLanguageModelConfig)
class TransformerLanguageModel(LanguageModel):
    """``forward(src_tokens)`` -> logits B x T x V for the next token at every position."""

    @classmethod
    def build_model(
        cls, cfg: TransformerLanguageModelConfig, task: Any
    ) -> TransformerLanguageModel:
        # As in fairseq: inputs come from the source dictionary, predictions from the target one
        # (the language-modeling task gives the same dictionary for both).
        tgt_dict = task.target_dictionary
        src_dict = task.source_dictionary if task.source_dictionary is not None else tgt_dict
        embed_tokens = Embedding(len(src_dict), cfg.decoder_input_dim, src_dict.pad())
        decoder = TransformerDecoder(
            cfg,
            tgt_dict,
            embed_tokens,
            encoder_embed_dim=None,
            share_input_output_embed=cfg.share_decoder_input_output_embed,
        )
        return cls(decoder)

    def may_skip_parameters(self) -> bool:
        return self.decoder.layerdrop > 0
