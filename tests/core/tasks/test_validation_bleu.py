"""--eval-bleu's pieces: per-batch statistics summed into the corpus BLEU that sacrebleu gives
for all sentences at once, fairseq's --eval-bleu-args names and --eval-bleu-detok(-args)."""

import random

import pytest
import sacrebleu

from seqcore.errors import ConfigError
from seqcore.tasks.validation_bleu import (
    bleu_statistics,
    corpus_bleu,
    detokenizer,
    detokenizer_args,
    generation_args,
)


def _sentences(rng, n):
    words = [f"w{i}" for i in range(12)]
    return [" ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(n)]


@pytest.mark.parametrize("tokenized", [False, True])
def test_batch_statistics_sum_to_the_corpus_bleu(tokenized):
    rng = random.Random(0)
    refs = _sentences(rng, 40)
    hyps = [r if rng.random() < 0.3 else s for r, s in zip(refs, _sentences(rng, 40))]
    batches = [
        bleu_statistics(hyps[i : i + 7], refs[i : i + 7], tokenized) for i in range(0, 40, 7)
    ]
    whole = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none" if tokenized else "13a")
    assert whole.score > 0
    assert corpus_bleu(batches) == round(whole.score, 2)
    # summed across ranks, the statistics arrive as floats
    assert corpus_bleu([{k: float(v) for k, v in b.items()} for b in batches]) == round(
        whole.score, 2
    )


def test_no_statistics_no_bleu_and_empty_hypotheses_score_zero():
    assert corpus_bleu([{"loss": 1.0}]) is None
    assert corpus_bleu([bleu_statistics(["", ""], ["a b", "c d e"], False)]) == 0.0


def test_generation_args_take_fairseq_names():
    args = generation_args('{"beam": 4, "max_len_a": 1.2, "max_len_b": 10, "lenpen": 0.6}')
    assert args == {"beam_size": 4, "max_len_a": 1.2, "max_len_b": 10, "len_penalty": 0.6}
    assert generation_args('{"unnormalized": true}') == {"normalize_scores": False}
    assert generation_args("{}") == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"beem": 4}', "--eval-bleu-args: unknown option 'beem'; known: beam, lenpen,"),
        ("beam=4", "--eval-bleu-args 'beam=4' is not a JSON object (Expecting value)"),
        ("[4]", "--eval-bleu-args '[4]' is not a JSON object"),
    ],
)
def test_generation_args_errors(text, message):
    with pytest.raises(ConfigError) as e:
        generation_args(text)
    assert str(e.value).startswith(message)


def test_space_detokenizes_nothing_and_moses_uses_english_rules_unless_told():
    assert detokenizer("space", '{"target_lang": "fr"}') is None
    pytest.importorskip("sacremoses")
    # English rules join "it 's"; French ones join "l' homme" instead
    assert detokenizer("moses", "{}").decode("it &apos;s l&apos; homme") == "it's l' homme"
    given = detokenizer("moses", '{"target_lang": "fr", "moses_no_escape": true}')
    assert given.decode("l&apos; homme") == "l'homme"
    assert given.encode("a & b") == "a & b"


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '{"moses_target_lang": "de"}',
            "--eval-bleu-detok-args: unknown option 'moses_target_lang'; known: "
            "moses_no_dash_splits, moses_no_escape, source_lang, target_lang",
        ),
        (
            '{"moses_no_escape": "yes"}',
            "--eval-bleu-detok-args: 'moses_no_escape' must be a bool, not 'yes'",
        ),
        ('{"target_lang": 1}', "--eval-bleu-detok-args: 'target_lang' must be a str, not 1"),
        ("de", "--eval-bleu-detok-args 'de' is not a JSON object (Expecting value)"),
        ('["de"]', "--eval-bleu-detok-args '[\"de\"]' is not a JSON object"),
    ],
)
def test_detokenizer_args_errors(text, message):
    with pytest.raises(ConfigError) as e:
        detokenizer_args(text)
    assert str(e.value) == message
