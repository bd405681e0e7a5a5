"""--eval-bleu's pieces: per-batch statistics summed into the corpus BLEU that sacrebleu gives
for all sentences at once, and fairseq's --eval-bleu-args names."""

import random

import pytest
import sacrebleu

from seqcore.errors import ConfigError
from seqcore.tasks.validation_bleu import bleu_statistics, corpus_bleu, generation_args


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
