"""Under the CPU's autocast (``--bf16``) the residual stream is half precision, as in fairseq's
half-precision models: the embeddings are cast once per side and every layer runs on bfloat16
activations; the result still follows the float64 computation of the same weights."""

import torch
from torch.utils._python_dispatch import TorchDispatchMode


class _Casts(TorchDispatchMode):
    """The input of every float32 -> bfloat16 cast run under it."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[torch.Tensor] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        cast = func is torch.ops.aten._to_copy.default and args[0].dtype == torch.float32
        if cast and out.dtype == torch.bfloat16:
            self.inputs.append(args[0])
        return out


def _batch(helpers, seed):
    gen = torch.Generator().manual_seed(seed)
    src = helpers.random_tokens(gen, 3, 5, 40)
    src[1, :2] = 1  # left-padded source
    prev = helpers.random_tokens(gen, 3, 7, 48)
    prev[2, 4:] = 1
    return src, prev


def test_under_bf16_on_the_cpu_activations_are_cast_once_per_side(helpers):
    model = helpers.build(helpers.tiny_config(), 40, 48).train()
    src, prev = _batch(helpers, 5)
    parameters = {p.data_ptr() for p in model.parameters()}
    with _Casts() as casts, torch.autocast("cpu", dtype=torch.bfloat16):
        encoder_out = model.encoder(src)
        logits, _ = model.decoder(prev, encoder_out)
    # apart from attention's result (B x H x T x head_dim), which is computed in float32 on the
    # CPU: the source and the target embeddings (B x T x C), no layer's input
    activations = [x for x in casts.inputs if x.data_ptr() not in parameters and x.dim() < 4]
    assert [tuple(x.shape) for x in activations] == [(3, 5, 16), (3, 7, 16)]
    assert encoder_out["encoder_out"].dtype == torch.bfloat16
    assert logits.dtype == torch.bfloat16


def test_float32_keeps_a_float32_residual_stream(helpers):
    model = helpers.build(helpers.tiny_config(), 40, 48).train()
    src, prev = _batch(helpers, 6)
    encoder_out = model.encoder(src)
    assert encoder_out["encoder_out"].dtype == torch.float32
    assert model.decoder(prev, encoder_out)[0].dtype == torch.float32


def test_bf16_logits_and_gradients_follow_the_float64_model(helpers):
    torch.manual_seed(0)
    model = helpers.build(helpers.tiny_config(dropout=0.0), 40, 48).train()
    src, prev = _batch(helpers, 7)
    weights = torch.randn(3, 7, 48, dtype=torch.float64)

    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, _ = model(src, None, prev)
    (logits.double() * weights).sum().backward()
    grads = {name: p.grad.double() for name, p in model.named_parameters()}

    reference = model.double()
    reference.zero_grad()
    exact, _ = reference(src, None, prev)
    (exact * weights).sum().backward()

    def relative(a, b):
        return float((a - b).norm() / b.norm())

    # bfloat16 keeps 8 significant bits (0.4% per rounding); over 5 seeds the logits were
    # 0.5-0.8% from float64 and the gradients at most 15% (a float32 residual stream: 0.4-0.6%
    # and 18%); a wrong cast or a lost term would be far off
    assert relative(logits.detach().double(), exact.detach()) < 0.02
    errors = {name: relative(grads[name], p.grad) for name, p in reference.named_parameters()}
    assert max(errors.values()) < 0.3, errors
    assert sorted(errors.values())[len(errors) // 2] < 0.05, errors


def test_attention_of_bf16_on_the_cpu_is_float32_attention_laid_out_for_merging_heads():
    import torch.nn.functional as F

    from seqcore_transformer.attention import attention

    gen = torch.Generator().manual_seed(8)
    q, k, v = (torch.randn(2, 4, 6, 8, generator=gen).bfloat16() for _ in range(3))
    y = attention(q, k, v, None, 0.0, is_causal=True)
    expected = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    assert y.shape == (2, 4, 6, 8) and y.dtype == torch.bfloat16
    assert torch.equal(y, expected.bfloat16())
    # B x T x H x head_dim in memory: merging the heads (B x T x C) needs no copy
    assert y.transpose(1, 2).is_contiguous()


def test_without_gradients_bf16_on_the_cpu_attends_in_bf16():
    """Decoding and validation (no gradients) attend in the inputs' dtype: the float32 path is
    for the backward pass's speed only, and would cast a decoder's whole cache every step."""
    import torch.nn.functional as F

    from seqcore_transformer.attention import attention, attention_keeps_output

    gen = torch.Generator().manual_seed(8)
    q, k, v = (torch.randn(2, 4, 6, 8, generator=gen).bfloat16() for _ in range(3))
    with torch.no_grad():
        y = attention(q, k, v, None, 0.0, is_causal=True)
        assert attention_keeps_output(q)
    assert not attention_keeps_output(q)  # with gradients: a float32 attention's cast copy
    assert y.dtype == torch.bfloat16
    assert torch.equal(y, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_a_bf16_model_on_the_cpu_decodes_from_a_bf16_cache(helpers):
    """Decoding a bf16 model keeps its caches in bf16 (no float32 copy of the cache per step)
    and, step by step, follows the float32 model's full forward pass as closely as bf16
    allows."""
    gen = torch.Generator().manual_seed(3)
    model = helpers.build(helpers.tiny_config()).eval()
    half = helpers.build(helpers.tiny_config()).eval()
    half.load_state_dict(model.state_dict())
    half.to(torch.bfloat16)
    src = helpers.left_pad(helpers.random_tokens(gen, 2, 6, 40), [6, 4])
    prev = helpers.random_tokens(gen, 2, 5, 48)
    prev[:, 0] = 2
    with torch.no_grad():
        full, _ = model(src, None, prev)
        encoder_out = half.encoder(src, None)
        state: dict = {}
        steps = [half.decoder(prev[:, :t], encoder_out, state)[0] for t in range(1, 6)]
    caches = [v for v in state.values() if isinstance(v, dict)]
    assert caches and all(c["k"].dtype == c["v"].dtype == torch.bfloat16 for c in caches)
    inc = torch.cat(steps, dim=1)
    assert inc.dtype == torch.bfloat16
    assert (inc.float() - full).abs().max() < 0.05 * full.abs().max()
