"""seqcore-plugin-transformer: fairseq's ``transformer`` and ``transformer_lm`` models and their
named architectures. Importing this package (the ``seqcore`` entry point) registers them."""

from seqcore_transformer.architectures import (
    base_architecture,
    base_lm_architecture,
    transformer_iwslt_de_en,
    transformer_lm_big,
    transformer_lm_gpt,
    transformer_vaswani_wmt_en_de_big,
    transformer_vaswani_wmt_en_fr_big,
    transformer_wmt_en_de,
    transformer_wmt_en_de_big,
)
from seqcore_transformer.config import TransformerConfig, TransformerLanguageModelConfig
from seqcore_transformer.fairseq_import import TransformerImporter
from seqcore_transformer.flops import forward_flops, training_flops
from seqcore_transformer.positional import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEmbedding,
    make_positions,
    sinusoidal_table,
)
from seqcore_transformer.transformer import (
    TransformerDecoder,
    TransformerEncoder,
    TransformerModel,
)
from seqcore_transformer.transformer_lm import TransformerLanguageModel

__all__ = [
    "LearnedPositionalEmbedding",
    "SinusoidalPositionalEmbedding",
    "TransformerConfig",
    "TransformerDecoder",
    "TransformerEncoder",
    "TransformerImporter",
    "TransformerLanguageModel",
    "TransformerLanguageModelConfig",
    "TransformerModel",
    "base_architecture",
    "base_lm_architecture",
    "forward_flops",
    "make_positions",
    "sinusoidal_table",
    "transformer_iwslt_de_en",
    "transformer_lm_big",
    "transformer_lm_gpt",
    "transformer_vaswani_wmt_en_de_big",
    "transformer_vaswani_wmt_en_fr_big",
    "transformer_wmt_en_de",
    "transformer_wmt_en_de_big",
    "training_flops",
]
