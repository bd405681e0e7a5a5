"""seqcore plug-in: fairseq's LSTM models ``lstm`` and ``lstm_lm`` and their architectures."""

from seqcore_lstm.architectures import (
    lstm_base_architecture,
    lstm_lm_base_architecture,
    lstm_luong_wmt_en_de,
    lstm_wiseman_iwslt_de_en,
)
from seqcore_lstm.config import LSTMConfig, LSTMLanguageModelConfig
from seqcore_lstm.decoder import LSTMDecoder
from seqcore_lstm.encoder import LSTMEncoder
from seqcore_lstm.fairseq_import import LSTMImporter
from seqcore_lstm.layers import AttentionLayer
from seqcore_lstm.models import LSTMLanguageModel, LSTMModel

__all__ = [
    "AttentionLayer",
    "LSTMConfig",
    "LSTMDecoder",
    "LSTMEncoder",
    "LSTMImporter",
    "LSTMLanguageModel",
    "LSTMLanguageModelConfig",
    "LSTMModel",
    "lstm_base_architecture",
    "lstm_lm_base_architecture",
    "lstm_luong_wmt_en_de",
    "lstm_wiseman_iwslt_de_en",
]
