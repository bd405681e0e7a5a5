"""Tiny deterministic models for the generation tests, written against the public model API only
(as a third-party plug-in would be), plus an independent greedy decoder and sequence scorer.

The decoder is a GRU over the target prefix with dot-product attention on the encoder states. It
caches its hidden state through ``IncrementalStateMixin``; without a cache it runs the whole
prefix. It records every call (rows, positions computed) so tests can see what the search did.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.models import Decoder, Encoder, EncoderDecoderModel, LanguageModel

try:
    from seqcore.data import Dictionary
except ImportError:
    try:
        from seqcore.data.dictionary import Dictionary
    except ImportError:

        class Dictionary:
            """Stand-in for seqcore.data.Dictionary (same method names)."""

            def __init__(self) -> None:
                self.symbols: list[str] = []
                self.indices: dict[str, int] = {}
                for sym in ("<s>", "<pad>", "</s>", "<unk>"):
                    self.add_symbol(sym)

            def add_symbol(self, word: str, n: int = 1) -> int:
                if word not in self.indices:
                    self.indices[word] = len(self.symbols)
                    self.symbols.append(word)
                return self.indices[word]

            def index(self, sym: str) -> int:
                return self.indices.get(sym, 3)

            def bos(self) -> int:
                return 0

            def pad(self) -> int:
                return 1

            def eos(self) -> int:
                return 2

            def unk(self) -> int:
                return 3

            def __len__(self) -> int:
                return len(self.symbols)


BOS, PAD, EOS, UNK = 0, 1, 2, 3


def make_dict(n_symbols: int) -> Dictionary:
    d = Dictionary()
    for i in range(n_symbols):
        d.add_symbol(f"w{i}")
    return d


class TinyEncoder(Encoder):
    def __init__(self, dictionary, dim: int) -> None:
        super().__init__(dictionary)
        self.embed = nn.Embedding(len(dictionary), dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, src_tokens, src_lengths):
        mask = src_tokens.ne(PAD)
        return {
            "states": torch.tanh(self.proj(self.embed(src_tokens))),
            "padding_mask": ~mask,
            "lengths": mask.sum(dim=1),
        }


class TinyDecoder(Decoder):
    """``bias`` (V) is added to the logits (-inf bans a token). With ``eos_at_source_length``
    the output of sentence k has exactly as many tokens as its source (then </s>)."""

    def __init__(
        self,
        dictionary,
        dim: int,
        bias: torch.Tensor | None = None,
        max_positions: int | None = None,
        eos_at_source_length: bool = False,
    ) -> None:
        super().__init__(dictionary)
        vocab = len(dictionary)
        self.dim = dim
        self.embed = nn.Embedding(vocab, dim)
        self.cell = nn.GRUCell(dim, dim)
        self.out = nn.Linear(2 * dim, vocab)
        nn.init.normal_(self.out.weight, std=1.5)  # peaky distributions: no near-ties
        self.register_buffer("bias", torch.zeros(vocab) if bias is None else bias.float())
        self._max_positions = max_positions
        self.eos_at_source_length = eos_at_source_length
        self.calls: list[tuple[int, int]] = []  # (rows, positions computed) per call

    def max_positions(self):
        return self._max_positions

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        bsz, length = prev_output_tokens.shape
        hidden = self.get_incremental_state(incremental_state, "hidden")
        start = 0 if hidden is None else length - 1
        if hidden is None:
            hidden = torch.zeros(bsz, self.dim)
        outputs = []
        for t in range(start, length):
            hidden = self.cell(self.embed(prev_output_tokens[:, t]), hidden)
            outputs.append(self._readout(hidden, encoder_out, t))
        self.set_incremental_state(incremental_state, "hidden", hidden)
        self.calls.append((bsz, length - start))
        return torch.stack(outputs, dim=1), None

    def _readout(self, hidden, encoder_out, position):
        if encoder_out is None:
            context = torch.zeros_like(hidden)
        else:
            states = encoder_out["states"]
            att = torch.bmm(states, hidden.unsqueeze(2)).squeeze(2)
            att = att.masked_fill(encoder_out["padding_mask"], -math.inf).softmax(dim=1)
            context = torch.bmm(att.unsqueeze(1), states).squeeze(1)
        logits = self.out(torch.cat([hidden, context], dim=1)) + self.bias
        if self.eos_at_source_length:
            reached = encoder_out["lengths"] - 1 <= position  # lengths count the source </s>
            logits[:, EOS] = torch.where(reached, 30.0, -30.0)
        return logits


def encdec(seed: int, n_symbols: int = 12, dim: int = 16, **decoder_kwargs) -> EncoderDecoderModel:
    torch.manual_seed(seed)
    d = make_dict(n_symbols)
    return EncoderDecoderModel(TinyEncoder(d, dim), TinyDecoder(d, dim, **decoder_kwargs)).eval()


def lm(seed: int, n_symbols: int = 12, dim: int = 16, **decoder_kwargs) -> LanguageModel:
    torch.manual_seed(seed)
    return LanguageModel(TinyDecoder(make_dict(n_symbols), dim, **decoder_kwargs)).eval()


def batch(rows: list[list[int]]) -> dict:
    """A sample of left-padded sources (each ending in </s>), as fairseq collates them."""
    width = max(len(r) for r in rows) + 1
    src = torch.full((len(rows), width), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        src[i, width - len(r) - 1 :] = torch.tensor(r + [EOS])
    return {
        "id": torch.arange(len(rows)),
        "net_input": {"src_tokens": src, "src_lengths": src.ne(PAD).sum(dim=1)},
    }


def random_sources(n: int, n_symbols: int, generator_seed: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(generator_seed)
    lengths = torch.randint(2, 7, (n,), generator=g).tolist()
    return [(torch.randint(4, 4 + n_symbols, (k,), generator=g)).tolist() for k in lengths]


def _encoder_out(models, src_row: torch.Tensor):
    outs = []
    for model in models:
        enc = getattr(model, "encoder", None)
        outs.append(None if enc is None else enc(src_row[None], src_row.ne(PAD).sum()[None]))
    return outs


def next_log_probs(models, encoder_outs, prefix: list[int], temperature: float = 1.0):
    """log of the mean next-token probability of ``models``, in float64, recomputing the whole
    prefix (no cache)."""
    probs = 0
    for model, enc in zip(models, encoder_outs):
        kwargs = {} if enc is None else {"encoder_out": enc}
        logits, _ = model.decoder(torch.tensor([prefix]), **kwargs)
        probs = probs + F.softmax(logits[0, -1].double() / temperature, dim=-1)
    return (probs / len(models)).log()


@torch.no_grad()
def greedy_reference(
    models,
    src_row: torch.Tensor,
    max_len: int,
    min_len: int = 1,
    unk_penalty: float = 0.0,
    temperature: float = 1.0,
    len_penalty: float = 1.0,
    bos: int = EOS,
    prefix: list[int] | None = None,
):
    """A plain greedy decoder: (tokens, normalised score, per-token scores)."""
    encoder_outs = _encoder_out(models, src_row)
    prev, picked = [bos], []
    for step in range(max_len + 1):
        lp = next_log_probs(models, encoder_outs, prev, temperature)
        lp[PAD] = -math.inf
        lp[UNK] -= unk_penalty
        if step >= max_len:
            keep = lp[EOS].clone()
            lp[:] = -math.inf
            lp[EOS] = keep
        if prefix is not None and step < len(prefix):
            token = prefix[step]
        else:
            if step < min_len and step < max_len:
                lp[EOS] = -math.inf
            token = int(lp.argmax())
        picked.append(float(lp[token]))
        prev.append(token)
        if token == EOS:
            break
    tokens = prev[1:]
    return tokens, sum(picked) / len(tokens) ** len_penalty, picked


@torch.no_grad()
def sequence_log_probs(models, src_row: torch.Tensor, tokens: list[int], bos: int = EOS):
    """Per-token float64 log-probabilities of a whole output under ``models`` (one forward)."""
    encoder_outs = _encoder_out(models, src_row)
    probs = 0
    for model, enc in zip(models, encoder_outs):
        kwargs = {} if enc is None else {"encoder_out": enc}
        logits, _ = model.decoder(torch.tensor([[bos] + tokens[:-1]]), **kwargs)
        probs = probs + F.softmax(logits[0].double(), dim=-1)
    lp = (probs / len(models)).log()
    return lp.gather(1, torch.tensor(tokens)[:, None]).squeeze(1)
