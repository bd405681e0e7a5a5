"""Under torch.compile the transformer traces as one graph (no break: a break splits the model
into frames that recompile per call site and hit dynamo's recompile limit), and the branches it
takes there (F.dropout, no packing, a materialised attention mask) compute the same as eager."""

import pytest
import torch


def _batch(helpers, gen, src_len=7, tgt_len=6, bsz=3):
    src = helpers.left_pad(helpers.random_tokens(gen, bsz, src_len, 40), [7, 5, 3])
    prev = helpers.random_tokens(gen, bsz, tgt_len, 48)
    prev[1, 4:] = 1  # right-padded targets, as in training
    prev[2, 2:] = 1
    return {"src_tokens": src, "src_lengths": src.ne(1).sum(1), "prev_output_tokens": prev}


@pytest.mark.parametrize("normalize_before", [False, True])
def test_training_forward_traces_as_one_graph(helpers, normalize_before):
    torch.manual_seed(0)
    model = helpers.build(
        helpers.tiny_config(dropout=0.1, decoder_normalize_before=normalize_before)
    )
    model.train()
    batch = _batch(helpers, torch.Generator().manual_seed(0))
    explained = torch._dynamo.explain(model)(**batch)
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]
    assert explained.graph_count == 1


def test_training_forward_under_cpu_bf16_autocast_traces_as_one_graph(helpers):
    # --bf16 --compile: the bf16 residual stream's cast and attention's float32 path trace too
    torch.manual_seed(0)
    model = helpers.build(helpers.tiny_config(dropout=0.1)).train()
    batch = _batch(helpers, torch.Generator().manual_seed(2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        explained = torch._dynamo.explain(model)(**batch)
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]
    assert explained.graph_count == 1


def test_language_model_traces_as_one_graph(helpers):
    model = helpers.build_lm(helpers.tiny_lm_config(dropout=0.1))
    model.train()
    tokens = helpers.random_tokens(torch.Generator().manual_seed(1), 2, 9, 48)
    tokens[1, 6:] = 1
    explained = torch._dynamo.explain(model)(tokens)
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]


def test_compiled_branches_compute_what_eager_does(helpers):
    torch.manual_seed(0)
    model = helpers.build(helpers.tiny_config()).double().eval()
    batch = _batch(helpers, torch.Generator().manual_seed(2))
    eager, _ = model(**batch)
    torch._dynamo.reset()
    traced, _ = torch.compile(model, backend="eager", fullgraph=True)(**batch)
    real = batch["prev_output_tokens"].ne(1)
    torch.testing.assert_close(traced[real], eager[real], rtol=1e-10, atol=1e-10)
