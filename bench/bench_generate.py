"""Speed of beam search with the decoder cache against recomputing the whole prefix, on CPU.

Beam 5 decoding of N random source sentences with seqcore's ``SequenceGenerator``, twice: with
incremental decoding (each step runs only the newest position through the decoder, reusing the
cached keys and values, and the cache is reordered as the beam moves) and with
``recompute_prefix=True`` (each step runs the whole prefix again). Both runs must give the same
hypotheses; the script prints sentences/s and generated tokens/s of each and the ratio
(goal: cached >= 3x faster).

The model is the ``transformer`` plug-in's (2+2 layers, d=256, 4 heads, FFN 1024, vocabulary
1,000 each side, randomly initialised) when ``seqcore_transformer`` is installed, else a small
GRU decoder with a cached hidden state. A random model rarely emits ``</s>``, so the outputs
run to ``--max-len-b`` tokens: the figures are for outputs of that length.

Run: ``python bench/bench_generate.py`` (200 sentences: about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import time
import types

import torch
from torch import nn

from seqcore.generation import SequenceGenerator
from seqcore.models import Decoder, Encoder, EncoderDecoderModel

BOS, PAD, EOS, UNK = 0, 1, 2, 3
VOCAB = 1000
DIM, HEADS, FFN, LAYERS = 256, 4, 1024, 2


class SizedDictionary:
    """What the generator and ``build_model`` read from a dictionary."""

    def __len__(self) -> int:
        return VOCAB

    def pad(self) -> int:
        return PAD

    def eos(self) -> int:
        return EOS

    def unk(self) -> int:
        return UNK

    def bos(self) -> int:
        return BOS


def transformer_model() -> nn.Module | None:
    try:
        from seqcore.config import make_config
        from seqcore_transformer import TransformerConfig, TransformerModel
    except ImportError:
        return None
    sizes = {"embed_dim": DIM, "ffn_embed_dim": FFN, "layers": LAYERS, "attention_heads": HEADS}
    values = {f"{side}_{k}": v for side in ("encoder", "decoder") for k, v in sizes.items()}
    cfg = make_config(TransformerConfig, "transformer", {**values, "decoder_output_dim": DIM})
    task = types.SimpleNamespace(
        source_dictionary=SizedDictionary(), target_dictionary=SizedDictionary()
    )
    return TransformerModel.build_model(cfg, task)


class GRUEncoder(Encoder):
    def __init__(self, dictionary) -> None:
        super().__init__(dictionary)
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.rnn = nn.GRU(DIM, DIM, batch_first=True)

    def forward(self, src_tokens, src_lengths):
        return {"final": self.rnn(self.embed(src_tokens))[1][0]}


class GRUDecoder(Decoder):
    """Fallback model: a GRU over the prefix, caching its hidden state."""

    def __init__(self, dictionary) -> None:
        super().__init__(dictionary)
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.rnn = nn.GRU(DIM, DIM, num_layers=LAYERS, batch_first=True)
        self.out = nn.Linear(DIM, VOCAB)

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        hidden = self.get_incremental_state(incremental_state, "hidden")
        if hidden is None:  # the cache holds hidden states batch-first: B x layers x dim
            start = 0
            hidden = encoder_out["final"].unsqueeze(1).repeat(1, LAYERS, 1)
        else:
            start = prev_output_tokens.size(1) - 1
        x, h = self.rnn(self.embed(prev_output_tokens[:, start:]), hidden.transpose(0, 1))
        self.set_incremental_state(incremental_state, "hidden", h.transpose(0, 1))
        return self.out(x), None


def gru_model() -> nn.Module:
    return EncoderDecoderModel(GRUEncoder(SizedDictionary()), GRUDecoder(SizedDictionary()))


def batches(n: int, batch_size: int, src_len: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch_size):
        rows = min(batch_size, n - start)
        src = torch.randint(4, VOCAB, (rows, src_len), generator=g)
        src[:, -1] = EOS
        yield {
            "net_input": {
                "src_tokens": src,
                "src_lengths": torch.full((rows,), src_len, dtype=torch.long),
            }
        }


def run(gen: SequenceGenerator, samples) -> tuple[float, int, list[list[int]]]:
    outputs, tokens = [], 0
    start = time.perf_counter()
    for sample in samples:
        for hyps in gen.generate(sample):
            outputs.append(hyps[0]["tokens"].tolist())
            tokens += len(hyps[0]["tokens"])
    return time.perf_counter() - start, tokens, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--src-len", type=int, default=20)
    parser.add_argument("--max-len-b", type=int, default=30)
    parser.add_argument("--model", choices=["auto", "transformer", "gru"], default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = transformer_model() if args.model != "gru" else None
    if model is None and args.model == "transformer":
        raise SystemExit("seqcore_transformer is not installed")
    name = "transformer plug-in" if model is not None else "GRU fallback"
    model = model if model is not None else gru_model()
    print(
        f"model: {name}, {sum(p.numel() for p in model.parameters()):,} parameters; "
        f"beam {args.beam}, {args.sentences} sentences in batches of {args.batch_size}, "
        f"source {args.src_len} tokens, outputs up to {args.max_len_b}; "
        f"{torch.get_num_threads()} threads"
    )
    results = {}
    for label, recompute in (("incremental", False), ("recompute-prefix", True)):
        gen = SequenceGenerator(
            [model],
            SizedDictionary(),
            beam_size=args.beam,
            max_len_b=args.max_len_b,
            recompute_prefix=recompute,
        )
        run(gen, batches(2, 2, args.src_len, seed=1))  # warm-up
        seconds, tokens, outputs = run(
            gen, batches(args.sentences, args.batch_size, args.src_len, seed=0)
        )
        results[label] = (seconds, outputs)
        print(
            f"{label:>17}: {seconds:7.2f} s  {args.sentences / seconds:8.1f} sentences/s  "
            f"{tokens / seconds:9.1f} tokens/s"
        )
    same = results["incremental"][1] == results["recompute-prefix"][1]
    ratio = results["recompute-prefix"][0] / results["incremental"][0]
    print(f"same hypotheses: {same}")
    print(
        f"speed-up of the cache: {ratio:.2f}x (goal >= 3x) {'OK' if ratio >= 3 else 'BELOW GOAL'}"
    )
    if not same:
        raise SystemExit("cached and recomputed decoding disagree")


if __name__ == "__main__":
    main()
