"""Models and their named architectures (fairseq's ``fairseq.models`` names)."""

from seqcore.models.base import (
    BaseModel,
    Decoder,
    Encoder,
    EncoderDecoderModel,
    LanguageModel,
    normalized_probs,
)
from seqcore.models.incremental import IncrementalStateMixin
from seqcore.models.registry import (
    ARCH_MODEL_REGISTRY,
    MODEL_REGISTRY,
    build_model,
    register_model,
    register_model_architecture,
)

__all__ = [
    "ARCH_MODEL_REGISTRY",
    "MODEL_REGISTRY",
    "BaseModel",
    "Decoder",
    "Encoder",
    "EncoderDecoderModel",
    "IncrementalStateMixin",
    "LanguageModel",
    "build_model",
    "normalized_probs",
    "register_model",
    "register_model_architecture",
]
