"""Inference and evaluation: generate, interactive, eval-lm, score, average-checkpoints."""

from seqcore.evaluation.config import (
    AverageCheckpointsConfig,
    EvalLMConfig,
    GenerateConfig,
    InferenceConfig,
    InteractiveConfig,
    ScoreConfig,
)

__all__ = [
    "AverageCheckpointsConfig",
    "EvalLMConfig",
    "GenerateConfig",
    "InferenceConfig",
    "InteractiveConfig",
    "ScoreConfig",
]
