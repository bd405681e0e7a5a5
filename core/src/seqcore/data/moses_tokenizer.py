"""Moses tokenization of raw text, through sacremoses: fairseq's ``--tokenizer moses`` (input
tokenized, output detokenized) and ``--eval-bleu-detok moses`` (hypotheses and references
detokenized before BLEU).

sacremoses is optional (``pip install "seqcore-toolkit[moses]"``); asking for Moses without it is a
one-line error naming the package. Tokenizing applies Moses's aggressive dash splits (``a-b`` ->
``a @-@ b``) and escapes XML characters (``'`` -> ``&apos;``) unless told not to; detokenizing
undoes both.
"""

from __future__ import annotations

from typing import Any

from seqcore.errors import ConfigError


def import_sacremoses(flag: str) -> Any:
    """The ``sacremoses`` module, or a ConfigError naming ``flag`` and how to install it."""
    try:
        import sacremoses
    except ImportError:
        raise ConfigError(
            f"{flag} moses needs the sacremoses package: pip install sacremoses "
            '(or pip install "seqcore-toolkit[moses]")'
        ) from None
    return sacremoses


class MosesTokenizer:
    """Tokenizes source-language text and detokenizes target-language text, as fairseq's
    ``moses`` tokenizer does: ``encode`` for a raw input line, ``decode`` for a space-separated
    output."""

    def __init__(
        self,
        source_lang: str = "en",
        target_lang: str = "en",
        no_dash_splits: bool = False,
        no_escape: bool = False,
        flag: str = "--tokenizer",
    ) -> None:
        sacremoses = import_sacremoses(flag)
        self.tokenizer = sacremoses.MosesTokenizer(lang=source_lang)
        self.detokenizer = sacremoses.MosesDetokenizer(lang=target_lang)
        self.dash_splits = not no_dash_splits
        self.escape = not no_escape

    def encode(self, text: str) -> str:
        return self.tokenizer.tokenize(
            text, aggressive_dash_splits=self.dash_splits, return_str=True, escape=self.escape
        )

    def decode(self, text: str) -> str:
        return self.detokenizer.detokenize(text.split())
