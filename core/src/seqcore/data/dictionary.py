"""The vocabulary: symbols <-> consecutive integer ids, stored as fairseq's ``dict.<lang>.txt``.

The special symbols come first (``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, then any extra
special symbols) and are never written to the file. The file holds one ``<token> <count>`` line per
remaining symbol, in id order, so a dictionary saved here loads in fairseq and vice versa.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

import torch

from seqcore.errors import ConfigError, DataError

OVERWRITE_FLAG = "#fairseq:overwrite"


def tokenize_line(line: str) -> list[str]:
    """fairseq's tokenizer: split on any run of whitespace (Unicode whitespace included)."""
    return line.split()


class Dictionary:
    """A mapping from symbols to consecutive integers, with fairseq's methods and file format."""

    def __init__(
        self,
        *,
        bos: str = "<s>",
        pad: str = "<pad>",
        eos: str = "</s>",
        unk: str = "<unk>",
        extra_special_symbols: Iterable[str] | None = None,
    ) -> None:
        self.bos_word, self.unk_word, self.pad_word, self.eos_word = bos, unk, pad, eos
        self.symbols: list[str] = []
        self.count: list[int] = []
        self.indices: dict[str, int] = {}
        self.bos_index = self.add_symbol(bos)
        self.pad_index = self.add_symbol(pad)
        self.eos_index = self.add_symbol(eos)
        self.unk_index = self.add_symbol(unk)
        for symbol in extra_special_symbols or ():
            self.add_symbol(symbol)
        self.nspecial = len(self.symbols)

    # -- lookup --------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dictionary) and self.indices == other.indices

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __len__(self) -> int:
        return len(self.symbols)

    def __getitem__(self, idx: int) -> str:
        """The symbol of id ``idx``; ``<unk>`` for ids past the end (as fairseq)."""
        if idx < len(self.symbols):
            return self.symbols[idx]
        return self.unk_word

    def __contains__(self, sym: str) -> bool:
        return sym in self.indices

    def index(self, sym: str) -> int:
        """The id of ``sym``, or the id of ``<unk>`` when it is not in the dictionary."""
        return self.indices.get(sym, self.unk_index)

    def get_count(self, idx: int) -> int:
        return self.count[idx]

    def bos(self) -> int:
        return self.bos_index

    def pad(self) -> int:
        return self.pad_index

    def eos(self) -> int:
        return self.eos_index

    def unk(self) -> int:
        return self.unk_index

    def unk_string(self, escape: bool = False) -> str:
        """``<unk>``, or ``<<unk>>`` when escaped (so that it cannot be mistaken for a token)."""
        return f"<{self.unk_word}>" if escape else self.unk_word

    # -- building ------------------------------------------------------------------------------
    def add_symbol(self, word: str, n: int = 1, overwrite: bool = False) -> int:
        """Add ``word`` with count ``n`` (or add ``n`` to its count) and return its id."""
        idx = self.indices.get(word)
        if idx is not None and not overwrite:
            self.count[idx] += n
            return idx
        idx = len(self.symbols)
        self.indices[word] = idx
        self.symbols.append(word)
        self.count.append(n)
        return idx

    def add_from_counts(self, counts: Mapping[str, int]) -> None:
        """Add every ``word -> count`` of ``counts`` (words in sorted order, as fairseq merges)."""
        for word, n in sorted(counts.items()):
            self.add_symbol(word, n)

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        threshold: int = -1,
        nwords: int = -1,
        padding_factor: int = 8,
    ) -> Dictionary:
        """A finalized dictionary built from token counts (what preprocess does with train text)."""
        d = cls()
        new = []
        for word, n in counts.items():
            idx = d.indices.get(word)
            if idx is None:
                new.append(word)
            else:  # a special symbol: only its count changes
                d.count[idx] += n
        # Appended in any order: finalize() sorts them (what add_from_counts would give).
        d.indices.update(zip(new, range(len(d.symbols), len(d.symbols) + len(new))))
        d.symbols.extend(new)
        d.count.extend(counts[w] for w in new)
        d.finalize(threshold=threshold, nwords=nwords, padding_factor=padding_factor)
        return d

    def finalize(self, threshold: int = -1, nwords: int = -1, padding_factor: int = 8) -> None:
        """Sort the non-special symbols by count, descending (ties: by symbol), and trim.

        At most ``nwords`` symbols are kept (special symbols included; ``nwords <= 0``: all),
        stopping at the first count below ``threshold``; then the size is padded up to a multiple
        of ``padding_factor`` with ``madeupword0000``, ``madeupword0001``, ... of count 0.
        """
        if nwords <= 0:
            nwords = len(self)
        ns = self.nspecial
        # By symbol first (the tie-break; a symbol listed twice keeps its larger count), then a
        # stable sort by count, descending.
        rest = list(dict(sorted(zip(self.symbols[ns:], self.count[ns:]))).items())
        rest.sort(key=lambda item: item[1], reverse=True)
        symbols, count = self.symbols[:ns], self.count[:ns]
        for symbol, n in rest[: max(nwords - ns, 0)]:
            if n < threshold:
                break
            symbols.append(symbol)
            count.append(n)
        self.symbols, self.count = symbols, count
        self.indices = {symbol: i for i, symbol in enumerate(symbols)}
        self.pad_to_multiple_(padding_factor)

    def pad_to_multiple_(self, padding_factor: int) -> None:
        """Pad the size up to a multiple of ``padding_factor`` with ``madeupwordNNNN`` symbols."""
        if padding_factor > 1:
            i = 0
            while len(self) % padding_factor != 0:
                self.add_symbol(f"madeupword{i:04d}", n=0)
                i += 1

    # -- text <-> ids --------------------------------------------------------------------------
    def encode_line(
        self,
        line: str,
        line_tokenizer: Callable[[str], list[str]] = tokenize_line,
        add_if_not_exist: bool = True,
        consumer: Callable[[str, int], Any] | None = None,
        append_eos: bool = True,
        reverse_order: bool = False,
    ) -> torch.IntTensor:
        """The ids of ``line``'s tokens (plus ``</s>``); unknown tokens are added or map to unk."""
        words = line_tokenizer(line)
        if reverse_order:
            words = words[::-1]
        if add_if_not_exist:
            ids = [self.add_symbol(w) for w in words]
        else:
            get, unk = self.indices.get, self.unk_index
            ids = [get(w, unk) for w in words]
        if consumer is not None:
            for w, i in zip(words, ids):
                consumer(w, i)
        if append_eos:
            ids.append(self.eos_index)
        return torch.tensor(ids, dtype=torch.int32)

    def string(
        self,
        tensor: Any,
        bpe_symbol: str | None = None,
        escape_unk: bool = False,
        extra_symbols_to_ignore: Iterable[int] | None = None,
        unk_string: str | None = None,
        include_eos: bool = False,
        separator: str = " ",
    ) -> str:
        """The text of a sequence of ids; a 2-D tensor gives one line per row.

        ``<s>``, ``<pad>`` and (unless ``include_eos``) ``</s>`` are left out, as are the ids in
        ``extra_symbols_to_ignore``; ``bpe_symbol`` undoes a subword segmentation (see
        :func:`post_process`).
        """
        if torch.is_tensor(tensor) and tensor.dim() == 2:
            return "\n".join(
                self.string(
                    row,
                    bpe_symbol,
                    escape_unk,
                    extra_symbols_to_ignore,
                    unk_string=unk_string,
                    include_eos=include_eos,
                    separator=separator,
                )
                for row in tensor
            )
        ignore = set(extra_symbols_to_ignore or ())
        ignore.update((self.bos_index, self.pad_index))
        if not include_eos:
            ignore.add(self.eos_index)
        if unk_string is None:
            unk_string = self.unk_string(escape_unk)
        ids = tensor.tolist() if hasattr(tensor, "tolist") else list(tensor)
        if not isinstance(ids, list):  # a 0-d tensor
            ids = [ids]
        sent = separator.join(
            unk_string if i == self.unk_index else self[i] for i in ids if i not in ignore
        )
        return post_process(sent, bpe_symbol)

    # -- files ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, f: str | os.PathLike[str] | IO[str]) -> Dictionary:
        """A dictionary read from a ``dict.<lang>.txt`` file (path or open text file)."""
        d = cls()
        d.add_from_file(f)
        return d

    def add_from_file(self, f: str | os.PathLike[str] | IO[str]) -> None:
        """Add the symbols of a ``dict.<lang>.txt`` file (path or open text file) in file order.

        Raises :class:`DataError` naming the file and line for a malformed line, a duplicate token
        without ``#fairseq:overwrite``, a line that is not UTF-8, or a file that cannot be read.
        """
        if isinstance(f, (str, os.PathLike)):
            name = os.fspath(f)
            try:
                with open(name, "rb") as fd:
                    raw = fd.read()
            except OSError as e:
                raise DataError(f"cannot read dictionary {name}: {e.strerror or e}") from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                line_no = raw.count(b"\n", 0, e.start) + raw.count(b"\r", 0, e.start) + 1
                line_no -= raw.count(b"\r\n", 0, e.start)
                raise DataError(f"{name} line {line_no}: not valid UTF-8") from None
        else:
            name = getattr(f, "name", "<dictionary>")
            text = f.read()
        self._add_from_text(text, str(name))

    def _add_from_text(self, text: str, name: str) -> None:
        # Universal newlines, as Python's text files read them (what fairseq reads with).
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line_no, line in enumerate(lines, 1):
            word, sep, field = line.rstrip().rpartition(" ")
            overwrite = field == OVERWRITE_FLAG
            if overwrite:
                word, sep, field = word.rpartition(" ")
            try:
                if not sep:
                    raise ValueError
                n = int(field)
            except ValueError:
                raise DataError(
                    f"{name} line {line_no}: expected '<token> <count>', got {line.rstrip()!r}"
                ) from None
            if word in self.indices and not overwrite:
                raise DataError(
                    f"{name} line {line_no}: duplicate token {word!r} (end the line with "
                    f"'{OVERWRITE_FLAG}' to replace the earlier entry)"
                )
            self.add_symbol(word, n=n, overwrite=overwrite)

    def save(self, f: str | os.PathLike[str] | IO[str]) -> None:
        """Write the non-special symbols as ``<token> <count>`` lines (fairseq's format)."""
        if isinstance(f, (str, os.PathLike)):
            parent = os.path.dirname(os.fspath(f))
            if parent:
                os.makedirs(parent, exist_ok=True)
            with open(f, "w", encoding="utf-8", newline="\n") as fd:
                self.save(fd)
            return
        ns = self.nspecial
        f.write("".join(f"{w} {n}\n" for w, n in zip(self.symbols[ns:], self.count[ns:])))

    def to_string(self) -> str:
        """The file contents :meth:`save` writes."""
        buf = io.StringIO()
        self.save(buf)
        return buf.getvalue()


_SPACES = re.compile(" +")


def post_process(sentence: str, symbol: str | None) -> str:
    """Undo a subword segmentation in decoded text (fairseq's ``--post-process`` options)."""
    if symbol is None or symbol == "none":
        return sentence
    if symbol == "sentencepiece":
        return sentence.replace(" ", "").replace("\u2581", " ").strip()
    if symbol == "wordpiece":
        return sentence.replace(" ", "").replace("_", " ").strip()
    if symbol == "letter":
        return sentence.replace(" ", "").replace("|", " ").strip()
    if symbol == "silence":
        return _SPACES.sub(" ", sentence.replace("<SIL>", "")).strip()
    if symbol == "_EOW":
        return sentence.replace(" ", "").replace("_EOW", " ").strip()
    if symbol in ("subword_nmt", "@@ ", "@@"):
        marker = "@@ " if symbol == "subword_nmt" else symbol
        return (sentence + " ").replace(marker, "").rstrip()
    raise ConfigError(
        f"unknown post-process option {symbol!r} (choose from sentencepiece, wordpiece, letter, "
        "silence, _EOW, subword_nmt, @@, none)"
    )
