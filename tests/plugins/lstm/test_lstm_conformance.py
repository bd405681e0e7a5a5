"""The LSTM plug-in passes the conformance kit: every architecture of both models."""

from seqcore.testing import check_criterion, check_model_architectures

TINY = dict(
    encoder_embed_dim=8,
    encoder_hidden_size=8,
    decoder_embed_dim=8,
    decoder_hidden_size=8,
    decoder_out_embed_dim=8,
)
TINY_LM = dict(decoder_embed_dim=8, decoder_hidden_size=8, decoder_out_embed_dim=8)


def test_lstm_architectures_conform():
    archs = check_model_architectures("lstm", TINY)
    assert archs == ["lstm", "lstm_luong_wmt_en_de", "lstm_wiseman_iwslt_de_en"]


def test_lstm_lm_conforms():
    assert check_model_architectures("lstm_lm", TINY_LM) == ["lstm_lm"]
    check_criterion("cross_entropy", "lstm_lm", model_overrides=TINY_LM)
