"""--encoder-layerdrop / --decoder-layerdrop (LayerDrop, as fairseq): in training each layer is
skipped when its uniform draw is at most the rate, one draw per layer and forward pass; skipped
layers get no gradient; outside training every layer runs."""

import pytest
import torch

from seqcore.errors import ConfigError


def _recorder(model):
    calls = []
    for side in ("encoder", "decoder"):
        for i, layer in enumerate(getattr(model, side).layers):
            layer.register_forward_hook(lambda m, a, o, name=f"{side}.{i}": calls.append(name))
    return calls


def _batch(helpers):
    gen = torch.Generator().manual_seed(0)
    src = helpers.random_tokens(gen, 3, 7, 40)
    prev = helpers.random_tokens(gen, 3, 6, 48)
    return src, torch.full((3,), 7), prev


def test_layers_whose_draw_exceeds_the_rate_run_and_the_others_get_no_gradient(helpers):
    cfg = helpers.tiny_config(
        encoder_layers=4, decoder_layers=4, encoder_layerdrop=0.5, decoder_layerdrop=0.3,
        dropout=0.0,
    )  # fmt: skip
    model = helpers.build(cfg).train()
    assert model.may_skip_parameters()
    calls = _recorder(model)
    torch.manual_seed(11)
    out, _ = model(*_batch(helpers))
    out.sum().backward()
    torch.manual_seed(11)  # the same draws, encoder first (nothing else draws with dropout 0)
    encoder_draws, decoder_draws = torch.empty(4).uniform_(), torch.empty(4).uniform_()
    expected = [f"encoder.{i}" for i, u in enumerate(encoder_draws.tolist()) if u > 0.5]
    expected += [f"decoder.{i}" for i, u in enumerate(decoder_draws.tolist()) if u > 0.3]
    assert calls == expected
    assert 0 < len(expected) < 8  # this seed skips some layers and keeps others
    for side in ("encoder", "decoder"):
        for i, layer in enumerate(getattr(model, side).layers):
            grads = [p.grad for p in layer.parameters()]
            if f"{side}.{i}" in expected:
                assert all(g is not None for g in grads)
            else:
                assert all(g is None for g in grads)


def test_every_layer_runs_outside_training_or_without_layerdrop(helpers):
    dropping = helpers.build(helpers.tiny_config(encoder_layerdrop=0.9, decoder_layerdrop=0.9))
    calls = _recorder(dropping)
    dropping.eval()(*_batch(helpers))
    assert calls == ["encoder.0", "encoder.1", "decoder.0", "decoder.1"]
    plain = helpers.build(helpers.tiny_config()).train()
    assert not plain.may_skip_parameters()
    calls = _recorder(plain)
    plain(*_batch(helpers))
    assert calls == ["encoder.0", "encoder.1", "decoder.0", "decoder.1"]


def test_language_model_layerdrop(helpers):
    lm = helpers.build_lm(helpers.tiny_lm_config(decoder_layers=6, decoder_layerdrop=0.5))
    assert lm.may_skip_parameters()
    assert not helpers.build_lm(helpers.tiny_lm_config()).may_skip_parameters()


@pytest.mark.parametrize("flag", ["encoder_layerdrop", "decoder_layerdrop"])
def test_a_rate_outside_0_1_is_refused(helpers, flag):
    with pytest.raises(ConfigError) as e:
        helpers.tiny_config(**{flag: 1.0})
    assert str(e.value) == f"--{flag.replace('_', '-')} 1.0 must be in [0, 1)"
