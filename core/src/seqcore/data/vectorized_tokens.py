"""Whitespace tokenization of a block of lines with numpy, without one Python object per token.

Binarizing is bound by per-token work: a plain loop makes a ``str`` per token, hashes it and looks
it up. Here a block of bytes is split with array operations, every token of at most 16 bytes gets
an exact 128-bit key (its bytes, zero-padded), and identical tokens are grouped by sorting a hash
of the key; only one Python lookup per *distinct* token remains. A grouping whose hash put two
different tokens together is detected (their keys differ) and reported, so that the caller can
use the plain path for that block: results are always exact.

The byte-level split equals ``str.split()`` only for text without Unicode whitespace beyond
ASCII and without NUL bytes (NUL would be ambiguous with key padding): :func:`applies` checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# What str.split() splits on within ASCII, and the other code points it splits on.
ASCII_WHITESPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
UNICODE_WHITESPACE = (
    "\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + ("\u2028\u2029\u202f\u205f\u3000")
)

_IS_WORD = np.ones(256, dtype=bool)  # True for a byte that belongs to a token
_IS_WORD[list(ASCII_WHITESPACE)] = False
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
MAX_KEY_BYTES = 16  # longer tokens are looked up one by one
_HASH_BITS = 40  # sort key: 40 bits of hash (2 of them say the kind of token), 24 of index
_INDEX_BITS = 64 - _HASH_BITS
MAX_BLOCK_TOKENS = 1 << _INDEX_BITS
_MID = np.uint64(1 << (_HASH_BITS - 2))  # hashes of tokens of 9 to 16 bytes
_LONG = np.uint64(2 << (_HASH_BITS - 2))  # the one hash of all longer tokens
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xC2B2AE3D27D4EB4F)


def applies(block: bytes, text: str | None) -> bool:
    """Whether splitting ``block`` on ASCII whitespace equals ``text.split()``.

    ``text`` is the decoded block; it may be ``None`` for an ASCII block.
    """
    if b"\x00" in block:
        return False
    if block.isascii():
        return True
    # One `in` per character: a search that CPython skips outright for a character wider than
    # the text's widest (a regex scan costs several times more).
    return text is not None and not any(c in text for c in UNICODE_WHITESPACE)


@dataclass
class Groups:
    """The tokens of a block, grouped: group ``g`` holds ``counts[g]`` equal tokens."""

    block: bytes
    tokens_per_line: np.ndarray  # int64, one entry per line of the block
    ntokens: int
    order: np.ndarray  # token indices, sorted so that each group's tokens are contiguous
    counts: np.ndarray  # tokens per group
    words: list[bytes]  # the bytes of each group's token
    long_tokens: np.ndarray  # indices of tokens longer than MAX_KEY_BYTES (not in any group)
    long_words: list[bytes]


def group_block(block: bytes) -> Groups | None:
    """Split ``block`` (whole lines, ending with ``\\n``) and group equal tokens.

    ``None`` when two different tokens hashed alike (then use the plain path for this block).
    """
    buf = np.frombuffer(block, dtype=np.uint8)
    n = buf.size
    is_word = _word_bytes(buf)  # the block ends with "\n": a token always ends before it
    edges = np.flatnonzero(is_word[1:] != is_word[:-1]) + 1
    if n and is_word[0]:
        edges = np.concatenate(([0], edges))
    starts = edges[0::2]  # edges alternate: a token starts, the token ends
    lengths = edges[1::2] - starts
    ntok = starts.size
    if ntok >= MAX_BLOCK_TOKENS:
        raise ValueError("block too large for vectorized grouping")
    tokens_before_line_end = np.searchsorted(starts, np.flatnonzero(buf == 10))
    tokens_per_line = np.diff(tokens_before_line_end, prepend=0)

    # Exact keys: a token's first 8 bytes (key1) and next 8 (key2), zero-padded little-endian
    # uint64; key2 exists only for "mid" tokens of 9 to 16 bytes. Tokens of up to 8 bytes, mid
    # tokens and longer tokens get hashes in three disjoint ranges, so they never share a group.
    padded = np.zeros(n + 16, dtype=np.uint8)
    padded[:n] = buf
    windows = np.ndarray((n + 8,), dtype="<u8", buffer=padded, strides=(1,))
    key1 = windows[starts] & _MASKS[np.minimum(lengths, 8)]
    mixed = key1 * _C1
    is_long = lengths > MAX_KEY_BYTES
    mid = np.flatnonzero((lengths > 8) & ~is_long)
    if mid.size:
        key2 = windows[starts[mid] + 8] & _MASKS[lengths[mid] - 8]
        mixed[mid] += key2 * _C2
    hashed = mixed >> np.uint64(64 - _HASH_BITS + 2)
    if mid.size:
        hashed[mid] |= _MID
    nlong = int(np.count_nonzero(is_long))
    if nlong:
        hashed[is_long] = _LONG
    packed = np.sort((hashed << np.uint64(_INDEX_BITS)) | np.arange(ntok, dtype=np.uint64))
    order = (packed & np.uint64(MAX_BLOCK_TOKENS - 1)).view(np.intp)
    hashes = packed >> np.uint64(_INDEX_BITS)

    # Groups are runs of equal hashes; every run must hold one key only.
    nkeyed = ntok - nlong  # the long tokens sort last
    same_hash = hashes[1:nkeyed] == hashes[: max(nkeyed - 1, 0)]
    k1 = key1[order[:nkeyed]]
    differs = k1[1:] != k1[:-1]
    if mid.size:
        # Sorted mid tokens sit just before the long ones; compare their second halves too.
        key2_all = np.zeros(ntok, dtype=np.uint64)
        key2_all[mid] = key2
        k2 = key2_all[order[nkeyed - mid.size : nkeyed]]
        differs[nkeyed - mid.size :] |= k2[1:] != k2[:-1]
    if np.any(same_hash & differs):
        return None  # a hash collision inside this block

    group_starts = np.flatnonzero(np.concatenate(([True], ~same_hash))) if nkeyed else edges[:0]
    counts = np.diff(np.append(group_starts, nkeyed))
    rep = order[group_starts]
    rep_starts = starts[rep]
    words = [block[s:e] for s, e in zip(rep_starts.tolist(), (rep_starts + lengths[rep]).tolist())]
    long_tokens = order[nkeyed:]
    long_words = [
        block[s : s + L]
        for s, L in zip(starts[long_tokens].tolist(), lengths[long_tokens].tolist())
    ]
    return Groups(block, tokens_per_line, ntok, order, counts, words, long_tokens, long_words)


def _word_bytes(buf: np.ndarray) -> np.ndarray:
    """True where a byte belongs to a token, False at whitespace."""
    # Bytes above the space are never whitespace: one comparison suffices unless the block has
    # control characters other than the whitespace ones.
    if np.any(buf < 9) or np.any((buf - np.uint8(14)) < 14):  # 0-8 or 14-27 (wrapping)
        return _IS_WORD[buf]
    return buf > 32


def encode_groups(
    groups: Groups, lookup: Callable[[bytes], int], unk: int, eos: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """(ids with ``eos`` after each line, tokens per line incl. eos, tokens replaced by unk).

    ``lookup`` maps a token's bytes to its id, or to -1 when it is not in the dictionary.
    """
    group_ids = np.fromiter(map(lookup, groups.words), dtype=np.int64, count=len(groups.words))
    unknown = group_ids < 0
    replaced = int(groups.counts[unknown].sum())
    group_ids[unknown] = unk
    ids = np.empty(groups.ntokens, dtype=np.int64)
    nkeyed = groups.ntokens - groups.long_tokens.size
    ids[groups.order[:nkeyed]] = np.repeat(group_ids, groups.counts)
    for position, word in zip(groups.long_tokens.tolist(), groups.long_words):
        i = lookup(word)
        if i < 0:
            replaced += 1
            i = unk
        ids[position] = i
    line_ends = np.cumsum(groups.tokens_per_line)
    return np.insert(ids, line_ends, eos), groups.tokens_per_line + 1, replaced
