"""--checkpoint-activations: each layer keeps only its inputs and runs again in the backward
pass. The recomputation draws the same dropout masks, so outputs and every parameter's gradient
equal those of the model that keeps its activations (float64, padded batches, dropout on), and
what autograd saves shrinks."""

import pytest
import torch

DROPOUTS = dict(dropout=0.3, attention_dropout=0.2, activation_dropout=0.1)


def _batch(helpers, gen):
    src = helpers.left_pad(helpers.random_tokens(gen, 4, 9, 40), [9, 7, 5, 2])
    prev = helpers.random_tokens(gen, 4, 8, 48)
    prev[1, 6:] = prev[2, 3:] = prev[3, 5:] = 1  # right-padded targets (packed rows)
    return src, prev


def _forward_backward(model, *inputs):
    torch.manual_seed(7)  # the same dropout draws for both models
    out, _ = model(*inputs)
    (out * torch.linspace(-1, 1, out.size(-1), dtype=out.dtype)).sum().backward()
    return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def _saved_bytes(model, *inputs):
    sizes = {}

    def pack(t):
        sizes[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(*inputs)
    return sum(sizes.values())


@pytest.mark.parametrize("normalize_before", [False, True])
def test_encoder_decoder_equals_the_model_that_keeps_activations(helpers, normalize_before):
    gen = torch.Generator().manual_seed(0)
    src, prev = _batch(helpers, gen)
    lengths = src.ne(1).sum(1)
    models = []
    for recompute in (False, True):
        torch.manual_seed(3)
        cfg = helpers.tiny_config(
            checkpoint_activations=recompute,
            encoder_normalize_before=normalize_before,
            decoder_normalize_before=normalize_before,
            **DROPOUTS,
        )
        models.append(helpers.build(cfg).double().train())
    kept, recomputed = (_forward_backward(m, src, lengths, prev) for m in models)
    assert torch.equal(kept[0], recomputed[0])
    for name, grad in kept[1].items():
        torch.testing.assert_close(recomputed[1][name], grad, rtol=1e-12, atol=1e-12)
    assert _saved_bytes(models[1], src, lengths, prev) < 0.5 * _saved_bytes(
        models[0], src, lengths, prev
    )


def test_language_model_equals_the_model_that_keeps_activations(helpers):
    gen = torch.Generator().manual_seed(1)
    tokens = helpers.random_tokens(gen, 3, 10, 48)
    models = []
    for recompute in (False, True):
        torch.manual_seed(5)
        cfg = helpers.tiny_lm_config(checkpoint_activations=recompute, **DROPOUTS)
        models.append(helpers.build_lm(cfg).double().train())
    kept, recomputed = (_forward_backward(m, tokens) for m in models)
    assert torch.equal(kept[0], recomputed[0])
    for name, grad in kept[1].items():
        torch.testing.assert_close(recomputed[1][name], grad, rtol=1e-12, atol=1e-12)


def test_only_training_with_gradients_recomputes(helpers, monkeypatch):
    calls = []
    real = torch.utils.checkpoint.checkpoint
    monkeypatch.setattr(
        torch.utils.checkpoint, "checkpoint", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    model = helpers.build(helpers.tiny_config(checkpoint_activations=True))
    src, prev = _batch(helpers, torch.Generator().manual_seed(2))
    model.train()(src, src.ne(1).sum(1), prev)
    assert len(calls) == 4  # 2 encoder + 2 decoder layers
    with torch.no_grad():
        model(src, src.ne(1).sum(1), prev)
    model.eval()(src, src.ne(1).sum(1), prev)
    assert len(calls) == 4
