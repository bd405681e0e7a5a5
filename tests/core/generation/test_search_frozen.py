"""The search's results frozen: fixed, seeded models decoded with a range of options give the
hypotheses (tokens equal) and scores (within 1e-4) that the search gave before it was made
faster (issue #22).

The expected outputs are in ``frozen_search.json`` next to this file. They were written by the
search as it was at commit d89209f (before the speed work), with torch 2.13.0 on the CPU, by

    PYTHONPATH=tests python tests/core/generation/test_search_frozen.py --write

Rewrite them only for a change meant to alter the search's results, and say so in the commit.
The models are seeded and made peaky (no near-ties between candidates), so that the order of
floating-point operations, which may differ between machines and after a change, cannot flip a
choice.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import pytest
import torch
from core.generation.toy_models import EOS, UNK, batch, encdec, lm, make_dict, random_sources

from seqcore.config import make_config
from seqcore.generation import SequenceGenerator

FIXTURE = pathlib.Path(__file__).with_name("frozen_search.json")
N_SYMBOLS = 28  # 32 symbols with the 4 specials

# Options of each case; "prefix" forces the first tokens of each output (generate's
# --prefix-size 2), "sampling_seed" draws from a generator seeded so.
OPTIONS: dict[str, dict[str, Any]] = {
    "beam5": {"beam_size": 5, "nbest": 5, "max_len_b": 12},
    "greedy": {"beam_size": 1, "max_len_b": 12},
    "min_max_len": {"beam_size": 5, "nbest": 2, "min_len": 5, "max_len_a": 0.5, "max_len_b": 4},
    "forced_length": {"beam_size": 5, "nbest": 3, "min_len": 9, "max_len_a": 0, "max_len_b": 9},
    "lenpen": {"beam_size": 5, "nbest": 3, "max_len_b": 12, "len_penalty": 0.6},
    "lenpen_long": {"beam_size": 4, "nbest": 4, "max_len_b": 12, "len_penalty": 1.7},
    "no_repeat": {"beam_size": 5, "nbest": 3, "max_len_b": 14, "no_repeat_ngram_size": 2},
    "unk_unnormalized": {
        "beam_size": 3,
        "nbest": 3,
        "max_len_b": 10,
        "unk_penalty": 1.0,
        "normalize_scores": False,
    },
    "temperature": {"beam_size": 5, "max_len_b": 10, "temperature": 0.6},
    "prefix": {"beam_size": 5, "nbest": 2, "max_len_b": 10, "prefix": 2},
    "sampling": {"beam_size": 3, "nbest": 3, "max_len_b": 8, "sampling": True, "sampling_seed": 5},
}


def _dictionary():
    return make_dict(N_SYMBOLS)


def _peaky(weight: torch.Tensor, factor: float, eos_factor: float = 4.0) -> None:
    """Scale a vocabulary projection by ``factor``, the row of </s> by ``factor * eos_factor``
    (its logit then swings widely, so that outputs end at many different lengths)."""
    with torch.no_grad():
        weight.mul_(factor)
        weight[EOS].mul_(eos_factor)


def toy_encdec() -> torch.nn.Module:
    bias = torch.eye(N_SYMBOLS + 4)
    return encdec(seed=1, n_symbols=N_SYMBOLS, bias=bias[UNK] * 2.0 + bias[EOS] * 2.5)


def toy_encdec_lengths() -> torch.nn.Module:
    """Each output has as many tokens as its source, then </s>: the sentences of a batch end at
    different steps and leave the batch one by one."""
    return encdec(seed=6, n_symbols=N_SYMBOLS, eos_at_source_length=True)


def toy_lm() -> torch.nn.Module:
    return lm(seed=2, n_symbols=N_SYMBOLS, bias=torch.eye(N_SYMBOLS + 4)[EOS] * 2.5)


def _task(dictionary):
    return type("Task", (), {"source_dictionary": dictionary, "target_dictionary": dictionary})


def transformer(**values: Any) -> torch.nn.Module:
    plugin = pytest.importorskip("seqcore_transformer")
    sizes = {"embed_dim": 32, "ffn_embed_dim": 64, "layers": 2, "attention_heads": 4}
    config = {f"{side}_{k}": v for side in ("encoder", "decoder") for k, v in sizes.items()}
    config.update(dropout=0.0, **values)
    cfg = make_config(plugin.TransformerConfig, "transformer", config)
    torch.manual_seed(3)
    model = plugin.TransformerModel.build_model(cfg, _task(_dictionary()))
    _peaky(model.decoder.output_projection.weight, 3.0)  # shared: the embeddings too
    return model.eval()


def transformer_shared() -> torch.nn.Module:
    return transformer(share_all_embeddings=True, decoder_normalize_before=True)


def transformer_lm() -> torch.nn.Module:
    plugin = pytest.importorskip("seqcore_transformer")
    values = {"embed_dim": 32, "ffn_embed_dim": 64, "layers": 2, "attention_heads": 4}
    cfg = make_config(
        plugin.TransformerLanguageModelConfig,
        "transformer_lm",
        {**{f"decoder_{k}": v for k, v in values.items()}, "dropout": 0.0},
    )
    torch.manual_seed(4)
    model = plugin.TransformerLanguageModel.build_model(cfg, _task(_dictionary()))
    _peaky(model.decoder.output_projection.weight, 3.0)
    return model.eval()


def lstm() -> torch.nn.Module:
    plugin = pytest.importorskip("seqcore_lstm")
    cfg = make_config(
        plugin.LSTMConfig,
        "lstm",
        dict(
            encoder_embed_dim=24,
            decoder_embed_dim=24,
            decoder_out_embed_dim=24,
            encoder_bidirectional=True,
            encoder_layers=2,
            decoder_layers=2,
            dropout=0.0,
        ),
    )
    torch.manual_seed(5)
    model = plugin.LSTMModel.build_model(cfg, _task(_dictionary()))
    _peaky(model.decoder.fc_out.weight, 4.0)
    return model.eval()


MODELS: dict[str, Callable[[], torch.nn.Module]] = {
    "toy_encdec": toy_encdec,
    "toy_encdec_lengths": toy_encdec_lengths,
    "toy_lm": toy_lm,
    "transformer": transformer,
    "transformer_shared": transformer_shared,
    "transformer_lm": transformer_lm,
    "lstm": lstm,
}


def sample() -> dict[str, Any]:
    """Seven left-padded sources of 2-6 tokens: sentences end at different steps and leave the
    batch one by one."""
    return batch(random_sources(7, N_SYMBOLS, generator_seed=11))


def decode(model_name: str, case: str) -> list[list[dict[str, Any]]]:
    options = dict(OPTIONS[case])
    prefix_size = options.pop("prefix", 0)
    seed = options.pop("sampling_seed", None)
    if seed is not None:
        options["generator"] = torch.Generator().manual_seed(seed)
    model = MODELS[model_name]()
    generator = SequenceGenerator([model], _dictionary(), **options)
    src = sample()
    prefix_tokens = None
    if prefix_size:
        # as generate's --prefix-size: the first tokens of a target (here: of the source)
        prefix_tokens = src["net_input"]["src_tokens"][:, -prefix_size - 1 : -1]
    results = generator.generate(src, prefix_tokens=prefix_tokens)
    return [
        [
            {
                "tokens": hyp["tokens"].tolist(),
                "score": round(float(hyp["score"]), 5),
                "positional_scores": [round(s, 5) for s in hyp["positional_scores"].tolist()],
            }
            for hyp in hyps
        ]
        for hyps in results
    ]


CASES = [(m, c) for m in MODELS for c in OPTIONS if not (c == "sampling" and m != "toy_encdec")]


@pytest.fixture(scope="module")
def frozen() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())["results"]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(("model_name", "case"), CASES)
def test_search_gives_the_frozen_results(frozen, model_name, case):
    expected = frozen[f"{model_name}/{case}"]
    got = decode(model_name, case)
    assert [[h["tokens"] for h in hyps] for hyps in got] == [
        [h["tokens"] for h in hyps] for hyps in expected
    ]
    for hyps_got, hyps_expected in zip(got, expected):
        for a, b in zip(hyps_got, hyps_expected):
            assert a["score"] == pytest.approx(b["score"], abs=1e-4)
            assert a["positional_scores"] == pytest.approx(b["positional_scores"], abs=1e-4)


def test_the_frozen_results_cover_what_they_should(frozen):
    """Sentences end at different steps, outputs of several lengths, and every case is there."""
    assert set(frozen) == {f"{m}/{c}" for m, c in CASES}
    for name in ("toy_encdec", "toy_encdec_lengths", "transformer_shared"):
        ends = {len(hyps[0]["tokens"]) for hyps in frozen[f"{name}/beam5"]}
        assert len(ends) > 2, name
    assert all(len(h["tokens"]) == 10 for hyps in frozen["transformer/forced_length"] for h in hyps)


def write() -> None:
    torch.set_num_threads(1)
    results = {f"{m}/{c}": decode(m, c) for m, c in CASES}
    payload = {
        "made_by": "tests/core/generation/test_search_frozen.py --write",
        "torch": torch.__version__,
        "results": results,
    }
    FIXTURE.write_text(json.dumps(payload, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: PYTHONPATH=tests python " + __file__ + " --write")
    write()
