"""Models and their named architectures (fairseq's ``fairseq.models`` names)."""

from seqcore.models.base import (
    BaseModel,
    Decoder,
    Encoder,
    EncoderDecoderModel,
    LanguageModel,
    normalized_probs,
)
from seqcore.models.incremental import IncrementalState, IncrementalStateMixin, reorder_nested
from seqcore.models.registry import (
    build_model,
    register_model,
    register_model_architecture,
)

__all__ = [
    "BaseModel",
    "Decoder",
    "Encoder",
    "EncoderDecoderModel",
    "IncrementalState",
    "IncrementalStateMixin",
    "LanguageModel",
    "build_model",
    "normalized_probs",
    "register_model",
    "register_model_architecture",
    "reorder_nested",
]
