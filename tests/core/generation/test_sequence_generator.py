"""SequenceGenerator against independent references: a plain greedy loop, exhaustive enumeration,
float64 rescoring of every output, and decoding sentences one at a time."""

from __future__ import annotations

import copy
import itertools
import math

import pytest
import torch
from core.generation.toy_models import (
    BOS,
    EOS,
    PAD,
    UNK,
    batch,
    encdec,
    greedy_reference,
    lm,
    make_dict,
    random_sources,
    sequence_log_probs,
)

from seqcore.errors import ConfigError
from seqcore.generation import GenerationConfig, SequenceGenerator, search

N_SYMBOLS = 12


def src_rows(sample):
    return sample["net_input"]["src_tokens"]


def assert_same_results(got, expected, atol=1e-5):
    assert len(got) == len(expected)
    for hyps_a, hyps_b in zip(got, expected):
        assert [h["tokens"].tolist() for h in hyps_a] == [h["tokens"].tolist() for h in hyps_b]
        for a, b in zip(hyps_a, hyps_b):
            assert a["score"] == pytest.approx(b["score"], abs=atol)
            torch.testing.assert_close(
                a["positional_scores"], b["positional_scores"], atol=atol, rtol=0
            )


# -- greedy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"min_len": 4, "len_penalty": 0.5},
        {"unk_penalty": 1.5, "temperature": 0.7},
        {"max_len_b": 3, "len_penalty": 2.0},
    ],
)
@pytest.mark.parametrize("make_model", [encdec, lm])
def test_beam_one_is_the_plain_greedy_loop(make_model, options):
    model = make_model(seed=1, n_symbols=N_SYMBOLS, bias=torch.eye(N_SYMBOLS + 4)[UNK] * 2.0)
    sample = batch(random_sources(6, N_SYMBOLS, generator_seed=2))
    max_len_b = options.get("max_len_b", 10)
    gen = SequenceGenerator(
        [model],
        make_dict(N_SYMBOLS),
        beam_size=1,
        max_len_b=max_len_b,
        **{k: v for k, v in options.items() if k != "max_len_b"},
    )
    results = gen.generate(sample)
    for row, hyps in zip(src_rows(sample), results):
        tokens, score, per_token = greedy_reference(
            [model],
            row,
            max_len=max_len_b,
            min_len=options.get("min_len", 1),
            unk_penalty=options.get("unk_penalty", 0.0),
            temperature=options.get("temperature", 1.0),
            len_penalty=options.get("len_penalty", 1.0),
        )
        assert len(hyps) == 1
        assert hyps[0]["tokens"].tolist() == tokens
        assert hyps[0]["score"] == pytest.approx(score, abs=1e-5)
        torch.testing.assert_close(
            hyps[0]["positional_scores"].double(),
            torch.tensor(per_token, dtype=torch.float64),
            atol=1e-5,
            rtol=0,
        )
        assert hyps[0]["alignment"] is None


def test_language_model_with_bos_token_and_prompt():
    model = lm(seed=3, n_symbols=N_SYMBOLS)
    sample = batch([[5, 6], [7, 8]])
    prompts = [[9, 4, 11], [10]]
    prefix = torch.full((2, 3), PAD)
    for i, p in enumerate(prompts):
        prefix[i, : len(p)] = torch.tensor(p)
    gen = SequenceGenerator([model], make_dict(N_SYMBOLS), beam_size=1, max_len_b=8)
    results = gen.generate(sample, prefix_tokens=prefix, bos_token=BOS)
    for row, prompt, hyps in zip(src_rows(sample), prompts, results):
        tokens, score, _ = greedy_reference([model], row, max_len=8, bos=BOS, prefix=prompt)
        assert hyps[0]["tokens"].tolist()[: len(prompt)] == prompt
        assert hyps[0]["tokens"].tolist() == tokens
        assert hyps[0]["score"] == pytest.approx(score, abs=1e-5)


# -- beam search ----------------------------------------------------------------------------------


@pytest.mark.parametrize("len_penalty", [0.0, 0.5, 1.0, 2.0])
def test_beam_hypotheses_sorted_and_scored_by_normalised_log_probs(len_penalty):
    model = encdec(seed=4, n_symbols=N_SYMBOLS)
    sample = batch(random_sources(5, N_SYMBOLS, generator_seed=5))
    gen = SequenceGenerator(
        [model], make_dict(N_SYMBOLS), beam_size=4, nbest=4, max_len_b=9, len_penalty=len_penalty
    )
    for row, hyps in zip(src_rows(sample), gen.generate(sample)):
        assert len(hyps) == 4
        scores = [h["score"] for h in hyps]
        assert scores == sorted(scores, reverse=True)
        for h in hyps:
            tokens = h["tokens"].tolist()
            assert tokens[-1] == EOS and EOS not in tokens[:-1] and PAD not in tokens
            assert h["score"] == pytest.approx(
                h["positional_scores"].sum().item() / len(tokens) ** len_penalty, abs=1e-5
            )
            # each position's score is the model's log-probability of that token (float64)
            torch.testing.assert_close(
                h["positional_scores"].double(),
                sequence_log_probs([model], row, tokens),
                atol=1e-5,
                rtol=0,
            )


def test_unnormalized_scores_are_plain_sums():
    model = encdec(seed=4, n_symbols=N_SYMBOLS)
    sample = batch(random_sources(3, N_SYMBOLS, generator_seed=5))
    gen = SequenceGenerator(
        [model],
        make_dict(N_SYMBOLS),
        beam_size=3,
        nbest=3,
        max_len_b=6,
        normalize_scores=False,
        len_penalty=3.0,
    )
    for hyps in gen.generate(sample):
        for h in hyps:
            assert h["score"] == pytest.approx(h["positional_scores"].sum().item(), abs=1e-5)


@pytest.mark.parametrize(
    "normalize,len_penalty", [(True, 1.0), (True, 0.3), (True, 2.5), (False, 1.0)]
)
@pytest.mark.parametrize("make_model", [encdec, lm])
def test_best_hypothesis_is_the_exhaustive_best(make_model, normalize, len_penalty):
    # Two real symbols; <s> and <unk> banned, so outputs are {w0, w1}^L </s> with 1 <= L <= 3.
    banned = torch.zeros(6)
    banned[[BOS, UNK]] = -math.inf
    model = make_model(seed=6, n_symbols=2, dim=8, bias=banned)
    sample = batch([[4, 5, 4], [5], [5, 5, 4, 4]])
    max_len = 3
    all_outputs = [
        list(seq) + [EOS]
        for length in range(1, max_len + 1)
        for seq in itertools.product([4, 5], repeat=length)
    ]
    gen = SequenceGenerator(
        [model],
        make_dict(2),
        beam_size=16,
        nbest=len(all_outputs),
        max_len_b=max_len,
        normalize_scores=normalize,
        len_penalty=len_penalty,
    )
    for row, hyps in zip(src_rows(sample), gen.generate(sample)):
        exhaustive = {}
        for out in all_outputs:
            total = sequence_log_probs([model], row, out).sum().item()
            exhaustive[tuple(out)] = total / len(out) ** len_penalty if normalize else total
        best = max(exhaustive, key=exhaustive.get)
        assert tuple(hyps[0]["tokens"].tolist()) == best
        assert hyps[0]["score"] == pytest.approx(exhaustive[best], abs=1e-5)
        # the beam was wide enough to finish every possible output, each scored exactly
        assert {tuple(h["tokens"].tolist()): h["score"] for h in hyps} == pytest.approx(
            exhaustive, abs=1e-5
        )


@pytest.mark.parametrize("make_model", [encdec, lm])
@pytest.mark.parametrize("beam", [1, 3, 5])
def test_cached_decoding_equals_recomputing_the_prefix(make_model, beam):
    model = make_model(seed=7, n_symbols=N_SYMBOLS)
    sample = batch(random_sources(6, N_SYMBOLS, generator_seed=8))
    common = dict(beam_size=beam, nbest=beam, max_len_b=8, no_repeat_ngram_size=2)
    model.decoder.calls.clear()
    cached = SequenceGenerator([model], make_dict(N_SYMBOLS), **common).generate(sample)
    cached_calls = list(model.decoder.calls)
    model.decoder.calls.clear()
    full = SequenceGenerator([model], make_dict(N_SYMBOLS), recompute_prefix=True, **common)
    assert_same_results(cached, full.generate(sample))
    # the cached path computes one position per call after the first
    assert all(positions == 1 for _, positions in cached_calls)
    assert max(positions for _, positions in model.decoder.calls) > 1


def test_finished_sentences_leave_the_batch():
    model = encdec(seed=9, n_symbols=N_SYMBOLS, eos_at_source_length=True)
    sources = [[4, 5], [6, 7, 8, 9, 10, 11], [12], [4, 4, 4, 5], [7, 7, 7]]
    sample = batch(sources)
    beam = 3
    gen = SequenceGenerator([model], make_dict(N_SYMBOLS), beam_size=beam, nbest=beam, max_len_b=20)
    model.decoder.calls.clear()
    together = gen.generate(sample)
    rows_per_step = [rows for rows, _ in model.decoder.calls]
    for hyps, src in zip(together, sources):
        assert all(len(h["tokens"]) == len(src) + 1 for h in hyps)
    # the first step runs one row per sentence (its beams are all the same hypothesis); then
    # sentences end after 1, 2, 3, 4 and 6 tokens (then </s>): the batch shrinks step by step
    assert rows_per_step == [5] + [beam * n for n in (5, 4, 3, 2, 1, 1)]
    one_by_one = [gen.generate(batch([src]))[0] for src in sources]
    assert_same_results(together, one_by_one)


def test_the_search_runs_in_inference_mode_and_returns_ordinary_tensors():
    model = encdec(seed=9, n_symbols=N_SYMBOLS)
    modes = []
    model.decoder.register_forward_pre_hook(
        lambda *_: modes.append(torch.is_inference_mode_enabled())
    )
    gen = SequenceGenerator([model], make_dict(N_SYMBOLS), beam_size=2, nbest=2, max_len_b=5)
    hyps = gen.generate(batch([[4, 5, 6], [7, 8]]))
    assert modes and all(modes)
    hyp = hyps[0][0]
    assert not hyp["tokens"].is_inference() and not hyp["positional_scores"].is_inference()
    # what a caller may do with them outside inference mode: change them in place, take
    # gradients through them
    hyp["tokens"][0] = UNK
    weight = torch.ones((), requires_grad=True)
    (hyp["positional_scores"] * weight).sum().backward()
    assert weight.grad == pytest.approx(float(hyp["positional_scores"].sum()))


def test_dropping_sentences_keeps_results_of_a_random_model():
    likes_eos = torch.zeros(N_SYMBOLS + 4)
    likes_eos[EOS] = 5.0
    model = encdec(seed=10, n_symbols=N_SYMBOLS, bias=likes_eos)
    sources = random_sources(8, N_SYMBOLS, generator_seed=11)
    gen = SequenceGenerator([model], make_dict(N_SYMBOLS), beam_size=4, nbest=2, max_len_b=12)
    model.decoder.calls.clear()
    together = gen.generate(batch(sources))
    assert model.decoder.calls[-1][0] < 8 * 4  # some sentences ended before the others
    # single sentences get the batch's padded width so that max_len is the same
    width = batch(sources)["net_input"]["src_tokens"].size(1)
    for src, hyps in zip(sources, together):
        single = batch([src])
        pad = torch.full((1, width - single["net_input"]["src_tokens"].size(1)), PAD)
        single["net_input"]["src_tokens"] = torch.cat([pad, single["net_input"]["src_tokens"]], 1)
        assert_same_results([hyps], gen.generate(single))


# -- length rules, penalties, blocking, prefixes ---------------------------------------------------


def test_min_len_forbids_early_eos():
    eager = torch.zeros(N_SYMBOLS + 4)
    eager[EOS] = 8.0  # the model wants to stop at once
    model = encdec(seed=12, n_symbols=N_SYMBOLS, bias=eager)
    sample = batch(random_sources(4, N_SYMBOLS, generator_seed=13))
    for min_len in (1, 3, 5):
        gen = SequenceGenerator(
            [model], make_dict(N_SYMBOLS), beam_size=3, nbest=3, min_len=min_len
        )
        for hyps in gen.generate(sample):
            assert min(len(h["tokens"]) for h in hyps) == min_len + 1


@pytest.mark.parametrize(
    "a,b,max_positions,expected",
    [(0.0, 4, None, 4), (1.5, 2, None, 11), (2.0, 100, 7, 6), (0.0, 0, None, 0)],
)
def test_max_len_is_a_times_src_len_plus_b_capped_by_the_model(a, b, max_positions, expected):
    reluctant = torch.zeros(N_SYMBOLS + 4)
    reluctant[EOS] = -20.0  # the model never wants to stop
    model = encdec(seed=14, n_symbols=N_SYMBOLS, bias=reluctant, max_positions=max_positions)
    sample = batch([[4, 5, 6, 7, 8], [9]])  # padded width 6 (with </s>)
    gen = SequenceGenerator(
        [model], make_dict(N_SYMBOLS), beam_size=2, nbest=2, max_len_a=a, max_len_b=b
    )
    for hyps in gen.generate(sample):
        # at step 0 only the first beam is expanded: a single output when it must be </s>
        assert [len(h["tokens"]) for h in hyps] == [expected + 1] * (2 if expected else 1)
        assert all(h["tokens"][-1] == EOS for h in hyps)


def test_unk_penalty_steers_away_from_unk():
    likes_unk = torch.zeros(N_SYMBOLS + 4)
    likes_unk[UNK] = 4.0
    model = encdec(seed=15, n_symbols=N_SYMBOLS, bias=likes_unk)
    sample = batch(random_sources(4, N_SYMBOLS, generator_seed=16))
    dictionary = make_dict(N_SYMBOLS)
    free = SequenceGenerator([model], dictionary, beam_size=3, max_len_b=8).generate(sample)
    assert any(UNK in hyps[0]["tokens"].tolist() for hyps in free)
    penalised = SequenceGenerator([model], dictionary, beam_size=3, max_len_b=8, unk_penalty=100.0)
    assert all(UNK not in hyps[0]["tokens"].tolist() for hyps in penalised.generate(sample))


def ngrams(tokens, n):
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("sampling", [False, True])
def test_no_repeat_ngram_size(n, sampling):
    loves_w0 = torch.zeros(N_SYMBOLS + 4)
    loves_w0[4] = 6.0  # without blocking, outputs repeat w0
    loves_w0[EOS] = -5.0
    model = lm(seed=17, n_symbols=N_SYMBOLS, bias=loves_w0)
    sample = batch(random_sources(4, N_SYMBOLS, generator_seed=18))
    options = dict(
        beam_size=3,
        nbest=3,
        max_len_b=10,
        sampling=sampling,
        generator=torch.Generator().manual_seed(0),
    )
    free = SequenceGenerator([model], make_dict(N_SYMBOLS), **options).generate(sample)
    assert any(
        len(set(ngrams(h["tokens"].tolist(), n))) < len(ngrams(h["tokens"].tolist(), n))
        for hyps in free
        for h in hyps
    )
    options["generator"] = torch.Generator().manual_seed(0)
    blocked = SequenceGenerator(
        [model], make_dict(N_SYMBOLS), no_repeat_ngram_size=n, **options
    ).generate(sample)
    for hyps in blocked:
        assert len(hyps) == 3
        for h in hyps:
            grams = ngrams(h["tokens"].tolist()[:-1], n)  # the forced final </s> aside
            assert len(set(grams)) == len(grams)


def test_prefix_tokens_are_forced():
    model = encdec(seed=19, n_symbols=N_SYMBOLS)
    sample = batch(random_sources(3, N_SYMBOLS, generator_seed=20))
    prefix = torch.tensor([[15, 14, 13], [12, PAD, PAD], [11, 11, PAD]])
    gen = SequenceGenerator([model], make_dict(N_SYMBOLS), beam_size=4, nbest=4, max_len_b=8)
    for row, forced, hyps in zip(src_rows(sample), prefix.tolist(), gen.generate(sample, prefix)):
        forced = [t for t in forced if t != PAD]
        assert len(hyps) == 4
        for h in hyps:
            tokens = h["tokens"].tolist()
            assert tokens[: len(forced)] == forced
            torch.testing.assert_close(
                h["positional_scores"].double(),
                sequence_log_probs([model], row, tokens),
                atol=1e-5,
                rtol=0,
            )
    greedy = SequenceGenerator([model], make_dict(N_SYMBOLS), beam_size=1, max_len_b=8)
    for row, forced, hyps in zip(
        src_rows(sample), prefix.tolist(), greedy.generate(sample, prefix)
    ):
        forced = [t for t in forced if t != PAD]
        assert hyps[0]["tokens"].tolist() == greedy_reference([model], row, 8, prefix=forced)[0]


# -- sampling -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_model", [encdec, lm])
def test_sampling_top1_is_greedy(make_model):
    model = make_model(seed=21, n_symbols=N_SYMBOLS)
    sample = batch(random_sources(5, N_SYMBOLS, generator_seed=22))
    dictionary = make_dict(N_SYMBOLS)
    greedy = SequenceGenerator([model], dictionary, beam_size=1, max_len_b=9).generate(sample)
    sampled = SequenceGenerator(
        [model],
        dictionary,
        beam_size=1,
        max_len_b=9,
        sampling=True,
        sampling_topk=1,
        generator=torch.Generator().manual_seed(3),
    )
    assert_same_results(sampled.generate(sample), greedy)


def test_sampling_is_reproducible_with_a_seeded_generator():
    model = lm(seed=23, n_symbols=N_SYMBOLS)
    sample = batch(random_sources(6, N_SYMBOLS, generator_seed=24))

    def draw(seed):
        gen = SequenceGenerator(
            [model],
            make_dict(N_SYMBOLS),
            beam_size=3,
            nbest=3,
            max_len_b=8,
            sampling=True,
            generator=torch.Generator().manual_seed(seed),
        )
        return gen.generate(sample)

    first = draw(5)
    assert_same_results(first, draw(5))
    assert [h["tokens"].tolist() for hs in first for h in hs] != [
        h["tokens"].tolist() for hs in draw(6) for h in hs
    ]


class FixedDistributionDecoder(torch.nn.Module):
    """A decoder whose next-token distribution is always ``probs`` (a crafted nucleus)."""

    def __init__(self, probs):
        super().__init__()
        self.register_buffer("logits", probs.log())

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        bsz, length = prev_output_tokens.shape
        return self.logits.expand(bsz, length, -1), None

    def reorder_incremental_state(self, incremental_state, new_order):
        pass

    def max_positions(self):
        return None


class FixedDistributionLM(torch.nn.Module):
    """A third-party style model (no seqcore base classes)."""

    def __init__(self, probs):
        super().__init__()
        self.decoder = FixedDistributionDecoder(probs)

    def get_normalized_probs(self, net_output, log_probs):
        return torch.log_softmax(net_output[0].float(), dim=-1)


def crafted_probs():
    probs = torch.zeros(8)
    probs[EOS] = 1e-9  # </s> can end the output at max_len (forced), nowhere else in practice
    probs[[4, 5, 6, 7]] = torch.tensor([0.5, 0.3, 0.15, 0.05])
    return probs


@pytest.mark.parametrize(
    "topp,nucleus", [(0.7, [4, 5]), (0.5, [4]), (0.81, [4, 5, 6]), (1.0, [4, 5, 6, 7])]
)
def test_topp_sampling_stays_in_the_nucleus(topp, nucleus):
    probs = crafted_probs()
    model = FixedDistributionLM(probs)
    sample = batch([[4]] * 50)
    counts = torch.zeros(8)
    for seed in range(10):
        gen = SequenceGenerator(
            [model],
            make_dict(4),
            beam_size=2,
            nbest=2,
            max_len_b=6,
            sampling=True,
            sampling_topp=topp,
            generator=torch.Generator().manual_seed(seed),
        )
        for hyps in gen.generate(sample):
            for h in hyps:
                tokens = h["tokens"].tolist()
                assert len(tokens) == 7 and tokens[-1] == EOS
                counts += torch.bincount(torch.tensor(tokens[:-1]), minlength=8)
                # scores are the model's own log-probabilities, not renormalised ones
                torch.testing.assert_close(
                    h["positional_scores"][:-1], probs.log()[tokens[:-1]], atol=1e-6, rtol=0
                )
    outside = [t for t in range(8) if t not in nucleus]
    assert counts[outside].sum() == 0
    assert (counts[nucleus] > 0).all()
    # draws follow the model's probabilities restricted to the nucleus (6000 draws)
    expected = probs[nucleus] / probs[nucleus].sum()
    torch.testing.assert_close(counts[nucleus] / counts.sum(), expected, atol=0.03, rtol=0)


def test_topk_sampling_uses_the_k_most_likely():
    model = FixedDistributionLM(crafted_probs())
    gen = SequenceGenerator(
        [model],
        make_dict(4),
        beam_size=1,
        max_len_b=20,
        sampling=True,
        sampling_topk=2,
        generator=torch.Generator().manual_seed(0),
    )
    tokens = torch.cat([h[0]["tokens"][:-1] for h in gen.generate(batch([[4]] * 100))])
    counts = torch.bincount(tokens, minlength=8).float()
    assert counts[[6, 7]].sum() == 0
    torch.testing.assert_close(counts[4] / counts.sum(), torch.tensor(0.5 / 0.8), atol=0.03, rtol=0)


# -- ensembles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("beam", [1, 4])
def test_ensemble_of_identical_models_equals_one_model(beam):
    model = encdec(seed=25, n_symbols=N_SYMBOLS)
    twin = copy.deepcopy(model)
    sample = batch(random_sources(5, N_SYMBOLS, generator_seed=26))
    common = dict(beam_size=beam, nbest=beam, max_len_b=8)
    one = SequenceGenerator([model], make_dict(N_SYMBOLS), **common).generate(sample)
    two = SequenceGenerator([model, twin], make_dict(N_SYMBOLS), **common).generate(sample)
    assert_same_results(two, one)


def test_ensemble_averages_probabilities():
    models = [encdec(seed=27, n_symbols=N_SYMBOLS), encdec(seed=28, n_symbols=N_SYMBOLS)]
    sample = batch(random_sources(5, N_SYMBOLS, generator_seed=29))
    gen = SequenceGenerator(models, make_dict(N_SYMBOLS), beam_size=1, max_len_b=8)
    for row, hyps in zip(src_rows(sample), gen.generate(sample)):
        tokens, score, _ = greedy_reference(models, row, max_len=8)
        assert hyps[0]["tokens"].tolist() == tokens
        assert hyps[0]["score"] == pytest.approx(score, abs=1e-5)


# -- options --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,flag",
    [
        ({"beam_size": 0}, "--beam 0"),
        ({"beam_size": 2, "nbest": 3}, "--nbest 3"),
        ({"temperature": 0.0}, "--temperature 0.0"),
        ({"sampling_topk": 5}, "--sampling-topk 5 requires --sampling"),
        ({"sampling": True, "sampling_topp": 1.5}, "--sampling-topp 1.5"),
        ({"no_repeat_ngram_size": -1}, "--no-repeat-ngram-size -1"),
    ],
)
def test_impossible_options_name_their_flag(kwargs, flag):
    with pytest.raises(ConfigError, match=flag):
        SequenceGenerator([encdec(seed=0)], make_dict(N_SYMBOLS), **kwargs)


def test_generation_config_builds_the_generator():
    with pytest.raises(ConfigError, match="--sampling requires --nbest"):
        GenerationConfig(sampling=True, beam=3, nbest=1)
    cfg = GenerationConfig(beam=3, nbest=2, lenpen=0.5, max_len_b=7, unnormalized=True)
    gen = SequenceGenerator.from_config([encdec(seed=0)], make_dict(N_SYMBOLS), cfg)
    assert (gen.beam_size, gen.nbest, gen.len_penalty, gen.max_len_b) == (3, 2, 0.5, 7)
    assert gen.normalize_scores is False


# -- a real plug-in model -------------------------------------------------------------------------


def test_transformer_plugin_cached_equals_recomputed_and_greedy():
    transformer = pytest.importorskip("seqcore_transformer")
    from seqcore.config import make_config

    sizes = {"embed_dim": 16, "ffn_embed_dim": 32, "layers": 2, "attention_heads": 2}
    values = {f"{side}_{k}": v for side in ("encoder", "decoder") for k, v in sizes.items()}
    cfg = make_config(transformer.TransformerConfig, "transformer", values)
    dictionary = make_dict(N_SYMBOLS)
    task = type("Task", (), {"source_dictionary": dictionary, "target_dictionary": dictionary})
    torch.manual_seed(30)
    model = transformer.TransformerModel.build_model(cfg, task).eval()
    sample = batch(random_sources(6, N_SYMBOLS, generator_seed=31))
    common = dict(beam_size=4, nbest=4, max_len_b=7)
    cached = SequenceGenerator([model], dictionary, **common).generate(sample)
    full = SequenceGenerator([model], dictionary, recompute_prefix=True, **common)
    assert_same_results(cached, full.generate(sample))
    greedy = SequenceGenerator([model], dictionary, beam_size=1, max_len_b=7).generate(sample)
    for row, hyps in zip(src_rows(sample), greedy):
        tokens, score, _ = greedy_reference([model], row, max_len=7)
        assert hyps[0]["tokens"].tolist() == tokens
        assert hyps[0]["score"] == pytest.approx(score, abs=1e-5)


def test_a_large_vocabulary_decodes_as_with_a_plain_top_k(monkeypatch):
    """Beam search over 2,100 symbols (rows of beam x vocabulary long enough to be ranked
    through blocks) gives the hypotheses and scores of torch's top-k over whole rows."""
    model = encdec(seed=4, n_symbols=2100)
    sample = batch(random_sources(6, 2100, generator_seed=4))

    def decode():
        gen = SequenceGenerator([model], make_dict(2100), beam_size=5, nbest=5, max_len_b=8)
        return [[(h["tokens"].tolist(), h["score"]) for h in hyps] for hyps in gen.generate(sample)]

    assert search._block_size(5 * 2104, 10) is not None  # the blocks are what is tested
    blocks = decode()
    monkeypatch.setattr(search, "_block_size", lambda width, k: None)
    assert decode() == blocks
