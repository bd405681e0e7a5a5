"""The training FLOPs formula against torch's own FLOP counter on a real forward and backward.

Under the math attention backend every product (the attention's too) is a dispatched mm, addmm
or bmm that torch.utils.flop_counter counts; sentences of equal length leave no padding."""

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from seqcore_transformer import training_flops


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"decoder_embed_dim": 24, "decoder_ffn_embed_dim": 40, "decoder_layers": 3},
        {"decoder_output_dim": 8, "encoder_normalize_before": True},
        {"share_decoder_input_output_embed": True},
    ],
)
@pytest.mark.parametrize(("src_len", "tgt_len"), [(7, 5), (3, 11)])
def test_training_flops_equal_torch_flop_counter(helpers, values, src_len, tgt_len):
    cfg = helpers.tiny_config(**values)
    model = helpers.build(cfg, 40, 48)
    torch.manual_seed(0)
    bsz = 3
    src = torch.randint(4, 40, (bsz, src_len))
    prev = torch.randint(4, 48, (bsz, tgt_len))
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        logits, _ = model(src, torch.full((bsz,), src_len), prev)
        logits.sum().backward()
    assert counter.get_total_flops() == bsz * training_flops(cfg, 48, src_len, tgt_len)
