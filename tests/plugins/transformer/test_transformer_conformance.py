"""The transformer plug-in passes the conformance kit's model checks (a tiny configuration)."""

from seqcore.testing import check_model

TINY = dict(
    encoder_layers=1,
    decoder_layers=2,
    encoder_embed_dim=8,
    encoder_ffn_embed_dim=16,
    encoder_attention_heads=2,
    decoder_attention_heads=2,
    dropout=0.0,
)


def test_transformer_conforms():
    check_model("transformer", TINY)
