"""BLEU's scorer is quiet where the text is tokens by design, and scores as sacrebleu does."""

from __future__ import annotations

import logging
import random

import pytest

from seqcore.evaluation.scoring import CorpusScorer

sacrebleu = pytest.importorskip("sacrebleu")

WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "house"]


def tokenized_corpus(n: int = 150) -> tuple[list[str], list[str]]:
    """References and hypotheses that all end in a tokenized period (" .")."""
    rng = random.Random(3)
    refs, hyps = [], []
    for _ in range(n):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(3, 8))]
        hyp = [w if rng.random() < 0.7 else rng.choice(WORDS) for w in ref]
        refs.append(" ".join(ref) + " .")
        hyps.append(" ".join(hyp) + " .")
    return refs, hyps


def scored(scorer: CorpusScorer, refs: list[str], hyps: list[str]) -> tuple[float, str]:
    for ref, hyp in zip(refs, hyps):
        scorer.add_string(ref, hyp)
    return scorer.score(), scorer.result_string()


def detokenize_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "detokenize" in r.getMessage()]


def test_without_a_detokenizer_sacrebleu_does_not_warn_and_scores_the_same(caplog):
    refs, hyps = tokenized_corpus()
    expected = sacrebleu.corpus_bleu(hyps, [refs], force=True)
    scorer = CorpusScorer("sacrebleu", detokenized=False)
    with caplog.at_level(logging.WARNING):
        score, line = scored(scorer, refs, hyps)
        scorer.result_string()  # scored again: still nothing
    assert detokenize_warnings(caplog) == []
    assert scorer.on_tokens
    assert score == pytest.approx(expected.score)
    assert line == expected.format()


def test_with_a_detokenizer_sacrebleus_warning_stays(caplog):
    refs, hyps = tokenized_corpus()
    scorer = CorpusScorer("sacrebleu", detokenized=True)
    with caplog.at_level(logging.WARNING):
        score, _ = scored(scorer, refs, hyps)
    assert detokenize_warnings(caplog)  # the text should have been detokenized: say so
    assert not scorer.on_tokens
    assert score == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)


def test_token_bleu_never_warns(caplog):
    refs, hyps = tokenized_corpus()
    scorer = CorpusScorer("bleu", detokenized=True)
    with caplog.at_level(logging.WARNING):
        _, line = scored(scorer, refs, hyps)
    assert detokenize_warnings(caplog) == []
    assert not scorer.on_tokens
    assert line.startswith("BLEU4 = ")
