"""Speed of seqcore's ``transformer`` against plain ``torch.nn.Transformer*Layer`` on CPU.

1. Training step (forward + backward, train mode): our model against a reference built directly
   on ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` with the same sizes and
   the same computation: 2+2 layers, d=256, 4 heads, FFN 1024, post-norm, ReLU, dropout 0.1
   everywhere (torch's layers apply it to attention weights and after the activation too, so ours
   gets ``--attention-dropout 0.1 --activation-dropout 0.1``), sinusoidal positions, embeddings
   scaled by sqrt(d), a bias-free output projection, summed cross-entropy; one batch of 128
   sentences x 32 tokens (left-padded sources, right-padded targets), vocabulary 8,000. Prints
   the median time of each and the ratio ours / reference (goal: <= 1.05).
2. Incremental decoding (eval mode, no grad): time per step with a filled cache at prefix
   length 8 and 128, batch 5 beams x 16 sentences, and a full forward of the 128-token prefix
   for comparison.

Run: ``python bench/bench_transformer.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import types

import torch
import torch.nn.functional as F
from torch import nn

from seqcore.config import make_config
from seqcore_transformer import TransformerConfig, TransformerModel, sinusoidal_table

PAD = 1
VOCAB = 8000
DIM, HEADS, FFN, LAYERS = 256, 4, 1024, 2
DROPOUT = 0.1


class SizedDictionary:
    """Just what ``build_model`` reads from a dictionary: its size and padding index."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def pad(self) -> int:
        return PAD


class Reference(nn.Module):
    """The same model built from torch's own Transformer layers."""

    def __init__(self) -> None:
        super().__init__()
        self.src_embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.register_buffer("positions", sinusoidal_table(1024 + PAD + 1, DIM, PAD))
        self.scale = math.sqrt(DIM)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(DIM, HEADS, FFN, DROPOUT, batch_first=True),
            LAYERS,
            enable_nested_tensor=False,
        )
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(DIM, HEADS, FFN, DROPOUT, batch_first=True), LAYERS
        )
        self.out = nn.Linear(DIM, VOCAB, bias=False)

    def forward(self, src_tokens, src_lengths, prev_output_tokens):
        src_pad = src_tokens.eq(PAD)
        src_len, tgt_len = src_tokens.size(1), prev_output_tokens.size(1)
        x = self.src_embed(src_tokens) * self.scale + self.positions[PAD + 1 : PAD + 1 + src_len]
        memory = self.encoder(F.dropout(x, DROPOUT, self.training), src_key_padding_mask=src_pad)
        y = self.tgt_embed(prev_output_tokens) * self.scale
        y = y + self.positions[PAD + 1 : PAD + 1 + tgt_len]
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_len)
        y = self.decoder(
            F.dropout(y, DROPOUT, self.training),
            memory,
            tgt_mask=causal,
            tgt_is_causal=True,
            memory_key_padding_mask=src_pad,
        )
        return self.out(y), None


def build_ours(**overrides) -> TransformerModel:
    values = dict(
        encoder_layers=LAYERS,
        decoder_layers=LAYERS,
        encoder_embed_dim=DIM,
        decoder_embed_dim=DIM,
        encoder_ffn_embed_dim=FFN,
        decoder_ffn_embed_dim=FFN,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        dropout=DROPOUT,
        attention_dropout=DROPOUT,
        activation_dropout=DROPOUT,
    )
    values.update(overrides)
    cfg = make_config(TransformerConfig, "transformer", values)
    task = types.SimpleNamespace(
        source_dictionary=SizedDictionary(VOCAB), target_dictionary=SizedDictionary(VOCAB)
    )
    return TransformerModel.build_model(cfg, task)


def make_batch(bsz: int, length: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Left-padded sources and right-padded targets of 3/4 to full ``length`` tokens."""
    src = torch.randint(4, VOCAB, (bsz, length), generator=gen)
    tgt = torch.randint(4, VOCAB, (bsz, length), generator=gen)
    src_lengths = torch.randint(3 * length // 4, length + 1, (bsz,), generator=gen)
    tgt_lengths = torch.randint(3 * length // 4, length + 1, (bsz,), generator=gen)
    src_lengths[0] = tgt_lengths[0] = length
    pos = torch.arange(length)
    src = src.masked_fill(pos.unsqueeze(0) < (length - src_lengths).unsqueeze(1), PAD)
    tgt[torch.arange(bsz), tgt_lengths - 1] = 2  # </s>
    tgt = tgt.masked_fill(pos.unsqueeze(0) >= tgt_lengths.unsqueeze(1), PAD)
    prev = torch.cat([torch.full((bsz, 1), 2), tgt[:, :-1]], dim=1)
    prev = prev.masked_fill(prev.eq(2) & (pos.unsqueeze(0) > 0), PAD)
    return {"src_tokens": src, "src_lengths": src_lengths, "prev": prev, "target": tgt}


def train_step(model: nn.Module, batch: dict[str, torch.Tensor]) -> None:
    logits, _ = model(batch["src_tokens"], batch["src_lengths"], batch["prev"])
    loss = F.cross_entropy(
        logits.reshape(-1, VOCAB), batch["target"].reshape(-1), ignore_index=PAD, reduction="sum"
    )
    loss.backward()
    for p in model.parameters():
        p.grad = None


FAIRSEQ_DROPOUTS = "seqcore, fairseq dropouts (attn/act 0)"


def bench_training(iters: int, warmup: int, fairseq_dropouts: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    batch = make_batch(128, 32, gen)
    models = {
        "reference (torch.nn layers)": Reference().train(),
        "seqcore transformer": build_ours().train(),
    }
    if fairseq_dropouts:
        models[FAIRSEQ_DROPOUTS] = build_ours(attention_dropout=0.0, activation_dropout=0.0)
    counts = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    for i in range(warmup + iters):
        for name, model in models.items():  # interleaved, so drift hits all alike
            start = time.perf_counter()
            train_step(model, batch)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    ntok = int(batch["prev"].ne(PAD).sum() + batch["src_tokens"].ne(PAD).sum())
    print(f"training step, forward+backward, 128 x 32 tokens ({ntok} non-pad), V={VOCAB}:")
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, med in medians.items():
        best = min(times[name])
        print(
            f"  {name:40s} median {med * 1e3:8.1f} ms, min {best * 1e3:8.1f} ms  "
            f"({counts[name]:,} parameters)"
        )
    ref = medians["reference (torch.nn layers)"]
    ref_min = min(times["reference (torch.nn layers)"])
    print(
        f"  ratio seqcore / reference: {medians['seqcore transformer'] / ref:.3f} (median), "
        f"{min(times['seqcore transformer']) / ref_min:.3f} (min)"
    )
    if fairseq_dropouts:
        print(
            f"  ratio seqcore (fairseq dropouts) / reference: {medians[FAIRSEQ_DROPOUTS] / ref:.3f}"
        )


@torch.no_grad()
def bench_incremental(steps: int) -> None:
    gen = torch.Generator().manual_seed(1)
    model = build_ours().eval()
    bsz = 5 * 16
    src = torch.randint(4, VOCAB, (bsz, 32), generator=gen)
    encoder_out = model.encoder(src, None)
    print(f"incremental decoding, batch {bsz} (5 beams x 16 sentences), source 32 tokens:")
    for prefix in (8, 128):
        tokens = torch.randint(4, VOCAB, (bsz, prefix + steps), generator=gen)
        state: dict = {}
        model.decoder(tokens[:, : prefix - 4], encoder_out, state)  # fill the cache
        for t in range(prefix - 3, prefix):  # warm up
            model.decoder(tokens[:, :t], encoder_out, state)
        times = []
        for t in range(prefix, prefix + steps):
            start = time.perf_counter()
            logits, _ = model.decoder(tokens[:, :t], encoder_out, state)
            times.append(time.perf_counter() - start)
            assert logits.shape == (bsz, 1, VOCAB)
        print(f"  per step at prefix {prefix:4d}: {statistics.median(times) * 1e3:6.2f} ms")
    tokens = torch.randint(4, VOCAB, (bsz, 128), generator=gen)
    times = []
    for _ in range(4):
        start = time.perf_counter()
        model.decoder(tokens, encoder_out)
        times.append(time.perf_counter() - start)
    full_ms = statistics.median(times) * 1e3
    print(f"  (no cache: full forward of the 128-token prefix: {full_ms:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--fairseq-dropouts",
        action="store_true",
        help="also time ours with fairseq's default attention/activation dropout (0)",
    )
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_training(args.iters, args.warmup, args.fairseq_dropouts)
    bench_incremental(args.steps)


if __name__ == "__main__":
    main()
