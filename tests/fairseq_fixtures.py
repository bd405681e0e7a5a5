"""The fairseq 0.12.2 fixtures (tests/fixtures/fairseq, see its README) and readers of
fairseq-generate's output, shared by the interop tests of the core and the plug-ins."""

from __future__ import annotations

import logging
import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "fairseq"
TRANSLATION_BIN = FIXTURES / "translation-bin"
LM_BIN = FIXTURES / "lm-bin"

# fairseq and seqcore print positional scores rounded to 4 decimals: two values within 1e-4 of
# each other may print one unit apart in the last place
PRINTED = 1e-4 + 1e-9


def checkpoint(kind: str) -> Path:
    return FIXTURES / kind / "checkpoint.pt"


def hypotheses(text: str) -> dict[int, tuple[float, str, list[float]]]:
    """Sentence id -> (score, tokens, positional scores) of each H-/P- line pair."""
    scores: dict[int, tuple[float, str]] = {}
    positional: dict[int, list[float]] = {}
    for line in text.splitlines():
        m = re.match(r"^([HP])-(\d+)\t(.*)$", line)
        if not m:
            continue
        kind, i, rest = m.groups()
        if kind == "H":
            score, _, tokens = rest.partition("\t")
            scores[int(i)] = (float(score), tokens)
        else:
            positional[int(i)] = [float(x) for x in rest.split()]
    return {i: (s, t, positional.get(i, [])) for i, (s, t) in scores.items()}


def assert_same_hypotheses(ours: str, reference: str) -> None:
    """Every H- line's tokens equal; its score within 1e-4; the positional scores within 1e-4
    (as printed, see PRINTED)."""
    mine, theirs = hypotheses(ours), hypotheses(reference)
    assert theirs and set(mine) == set(theirs)
    for i, (score, tokens, positions) in theirs.items():
        my_score, my_tokens, my_positions = mine[i]
        assert my_tokens == tokens, f"sentence {i}"
        assert abs(my_score - score) <= 1e-4, f"sentence {i}: {my_score} vs {score}"
        assert len(my_positions) == len(positions), f"sentence {i}"
        for a, b in zip(my_positions, positions):
            assert abs(a - b) <= PRINTED, f"sentence {i}: {my_positions} vs {positions}"


def state_dict_keys(kind: str) -> dict[str, tuple[int, ...]]:
    """Name -> shape of each parameter in fairseq's state_dict_keys.txt."""
    shapes = {}
    for line in (FIXTURES / kind / "state_dict_keys.txt").read_text().splitlines():
        name, shape, _ = line.split("\t")
        shapes[name] = tuple(int(x) for x in shape.strip("()").split(",") if x.strip())
    return shapes


def seqcore(*args: object) -> int:
    """``seqcore ARGS`` in this process; its exit status. seqcore's log handler is made again
    so that it writes to this test's stderr (pytest replaces the stream between tests)."""
    from seqcore.cli.main import main

    logger = logging.getLogger("seqcore")
    for handler in [h for h in logger.handlers if type(h) is logging.StreamHandler]:
        logger.removeHandler(handler)
    try:
        main([str(a) for a in args])
    except SystemExit as e:
        return int(e.code or 0)
    return 0
