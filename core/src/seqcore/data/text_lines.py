"""Text files read as whole lines in byte ranges: the input side of binarization and of
subword training. A line is what Python's text files yield (``\\n``, ``\\r\\n`` or a lone ``\\r``
ends it, as in fairseq); ranges start at line boundaries so that workers can each read one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO

from seqcore.errors import DataError

BLOCK_SIZE = 1 << 22  # bytes of text read (and encoded) at once


class LineError(Exception):
    """A problem on a line, numbered within its byte range (the caller adds the range's start)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(line, reason)
        self.line, self.reason = line, reason


def read_blocks(f: IO[bytes], start: int, end: int, block_size: int = 0) -> Iterator[bytes]:
    """Bytes ``[start, end)`` of ``f`` in blocks of whole lines, each ending with ``\\n``.

    ``\\r\\n`` and lone ``\\r`` become ``\\n``; a last line without a newline gets one.
    """
    block_size = block_size or BLOCK_SIZE
    f.seek(start)
    remaining = end - start
    carry = b""
    while remaining > 0:
        data = f.read(min(block_size, remaining))
        if not data:  # the file shrank under us
            break
        remaining -= len(data)
        buf = carry + data if carry else data
        held = b""
        if remaining > 0 and buf.endswith(b"\r"):  # a "\r\n" may straddle two reads
            buf, held = buf[:-1], b"\r"
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if remaining > 0:
            cut = buf.rfind(b"\n") + 1
            if cut:
                yield buf if cut == len(buf) else buf[:cut]
            carry = buf[cut:] + held
        else:
            carry = buf
            break
    if carry:
        carry = carry.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        yield carry if carry.endswith(b"\n") else carry + b"\n"


def line_ranges(path: str, n: int) -> list[tuple[int, int]]:
    """At most ``n`` byte ranges of about equal size covering ``path``, each starting a line."""
    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as f:
        for k in range(1, n):
            pos = max(size * k // n - 1, bounds[-1])  # a boundary is the byte after a "\n"
            f.seek(pos)
            while True:
                chunk = f.read(1 << 16)
                if not chunk:
                    pos = size
                    break
                j = chunk.find(b"\n")
                if j >= 0:
                    pos += j + 1
                    break
                pos += len(chunk)
            if pos >= size:
                break
            if pos > bounds[-1]:
                bounds.append(pos)
    bounds.append(size)
    return list(zip(bounds[:-1], bounds[1:]))


def decode_block(block: bytes, lines_before: int) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as e:
        line = lines_before + block.count(b"\n", 0, e.start) + 1
        raise LineError(line, f"not valid UTF-8 (byte {block[e.start]:#04x})") from None


def open_input(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None


def count_lines(path: str) -> int:
    """The number of lines in ``path`` (as Python's text files count them)."""
    with open_input(path) as f:
        return sum(block.count(b"\n") for block in read_blocks(f, 0, os.fstat(f.fileno()).st_size))


def check_utf8(path: str) -> int:
    """The number of lines in ``path``; a :class:`DataError` naming the first non-UTF-8 line."""
    lines = 0
    with open_input(path) as f:
        try:
            for block in read_blocks(f, 0, os.fstat(f.fileno()).st_size):
                decode_block(block, lines)
                lines += block.count(b"\n")
        except LineError as e:
            raise DataError(f"{path} line {e.line}: {e.reason}") from None
    return lines
