"""Decoding speed: beam search of issue #22's configuration against the machine's limit, the
latency of one sentence (what ``interactive`` makes a person wait for), and the decoder cache
against recomputing the whole prefix.

1. The issue's configuration: a ``transformer`` of 3+3 layers, 256 dims, FFN 1024, 4 heads,
   shared 8k embeddings, random weights; beam 5, batches of 64, every hypothesis forced to
   exactly 30 tokens (``--min-len 30 --max-len-a 0 --max-len-b 30``: the same work whatever the
   weights) over 550 sentences, in float32 and in bfloat16 (the weights cast, as ``generate
   --bf16`` does). The floor is the model's FLOPs (the decoder's per token-step, the output
   projection and attention included, plus the encoder's) over the speed of a large matrix
   product in the same dtype, measured in the same run: the physical limit. The goal is >= 30%
   of the float32 limit (fairseq 0.12.2 reaches about 15%), and bf16 >= 1.5x float32 on CPUs
   with bf16 matrix units (avx512_bf16 or AMX).
2. One sentence, beam 5, the same model and length: the generator's time per batch, which is
   the latency ``interactive`` reports on its W- line.
3. Cache against recompute: the incremental decoder (each step runs only the newest position,
   reusing the cached keys and values reordered as the beam moves) against
   ``recompute_prefix=True`` (each step runs the whole prefix again) on a 2+2-layer model; both
   must give the same hypotheses (goal: cached >= 3x faster).
4. On CUDA: bf16, batches of 128, beam 5, as a fraction of the card's large-product speed (and
   of its data-sheet peak when known). Skipped without CUDA.
5. Natural lengths: fairseq 0.12.2's fixture ``transformer`` (tests/fixtures/fairseq: 2+2
   layers, 64 dims, trained on a tiny synthetic corpus, not the issue's es-en data), imported
   through ``seqcore.interop``, decoding its test split with beam 5 and the length defaults
   (``--max-len-a 0 --max-len-b 200``: every output ends at its own ``</s>``), as
   ``generate`` batches it. The floor counts the decoder rows the search actually ran (sentences
   leave the batch as they finish), so the fraction of the limit is of the work done.

Run: ``python bench/bench_generate.py`` (a few minutes on 2 cores; ``--sentences`` fewer for a
quick look, ``--sections`` to pick).
"""

from __future__ import annotations

import argparse
import sys
import time
import types
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mfu import vendor_peak  # noqa: E402
from bench_train import measured_peak  # noqa: E402

from seqcore.generation import SequenceGenerator  # noqa: E402
from seqcore.models import Decoder, Encoder, EncoderDecoderModel  # noqa: E402

BOS, PAD, EOS, UNK = 0, 1, 2, 3


class SizedDictionary:
    """What the generator and ``build_model`` read from a dictionary of ``size`` symbols."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def pad(self) -> int:
        return PAD

    def eos(self) -> int:
        return EOS

    def unk(self) -> int:
        return UNK

    def bos(self) -> int:
        return BOS


# -- models ---------------------------------------------------------------------------------------

ISSUE_SHAPE = {"embed_dim": 256, "ffn_embed_dim": 1024, "layers": 3, "attention_heads": 4}
ISSUE_VOCAB = 8000
SMALL_SHAPE = {"embed_dim": 256, "ffn_embed_dim": 1024, "layers": 2, "attention_heads": 4}
SMALL_VOCAB = 1000


def transformer_model(shape: dict, vocab: int, share_all: bool) -> nn.Module | None:
    """A randomly initialised ``transformer`` of ``shape`` (``None`` without the plug-in)."""
    try:
        from seqcore.config import make_config
        from seqcore_transformer import TransformerConfig, TransformerModel
    except ImportError:
        return None
    values = {f"{side}_{k}": v for side in ("encoder", "decoder") for k, v in shape.items()}
    values.update(decoder_output_dim=shape["embed_dim"], share_all_embeddings=share_all)
    cfg = make_config(TransformerConfig, "transformer", values)
    dictionary = SizedDictionary(vocab)  # one object: a joined dictionary
    task = types.SimpleNamespace(source_dictionary=dictionary, target_dictionary=dictionary)
    return TransformerModel.build_model(cfg, task).eval()


class GRUEncoder(Encoder):
    def __init__(self, dictionary, dim: int) -> None:
        super().__init__(dictionary)
        self.embed = nn.Embedding(len(dictionary), dim, padding_idx=PAD)
        self.rnn = nn.GRU(dim, dim, batch_first=True)

    def forward(self, src_tokens, src_lengths):
        return {"final": self.rnn(self.embed(src_tokens))[1][0]}


class GRUDecoder(Decoder):
    """Fallback model: a GRU over the prefix, caching its hidden state."""

    def __init__(self, dictionary, dim: int, layers: int) -> None:
        super().__init__(dictionary)
        self.layers = layers
        self.embed = nn.Embedding(len(dictionary), dim, padding_idx=PAD)
        self.rnn = nn.GRU(dim, dim, num_layers=layers, batch_first=True)
        self.out = nn.Linear(dim, len(dictionary))

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        hidden = self.get_incremental_state(incremental_state, "hidden")
        if hidden is None:  # the cache holds hidden states batch-first: B x layers x dim
            start = 0
            hidden = encoder_out["final"].unsqueeze(1).repeat(1, self.layers, 1)
        else:
            start = prev_output_tokens.size(1) - 1
        x, h = self.rnn(self.embed(prev_output_tokens[:, start:]), hidden.transpose(0, 1))
        self.set_incremental_state(incremental_state, "hidden", h.transpose(0, 1))
        return self.out(x), None


def gru_model(shape: dict, vocab: int) -> nn.Module:
    d = SizedDictionary(vocab)
    dim, layers = shape["embed_dim"], shape["layers"]
    return EncoderDecoderModel(GRUEncoder(d, dim), GRUDecoder(d, dim, layers)).eval()


def step_flops(shape: dict, vocab: int, t: int, src_len: int) -> int:
    """Matrix-product FLOPs of one decoder row at step ``t`` (0-based) over a source of
    ``src_len`` tokens: each layer's projections, feed-forward block and attention over the
    ``t + 1`` positions and the source, then the output projection (2 per multiply-add)."""
    d, ffn, layers = shape["embed_dim"], shape["ffn_embed_dim"], shape["layers"]
    per_layer = 2 * (4 * d * d + 2 * d * d + 2 * d * ffn) + 2 * 2 * (t + 1 + src_len) * d
    return layers * per_layer + 2 * d * vocab


def source_flops(shape: dict, src_len: int) -> int:
    """FLOPs of encoding one source of ``src_len`` tokens and projecting its keys and values
    for each decoder layer (once per sentence: they do not depend on the beam)."""
    d, ffn, layers = shape["embed_dim"], shape["ffn_embed_dim"], shape["layers"]
    s = src_len
    return (
        layers * (2 * s * (4 * d * d + 2 * d * ffn) + 2 * 2 * s * s * d)
        + layers * 2 * s * 2 * d * d
    )


def decoding_flops(shape: dict, vocab: int, src_lens: list[int], beam: int, length: int) -> int:
    """Matrix-product FLOPs of beam-decoding sources of ``src_lens`` tokens to outputs of
    ``length`` tokens plus ``</s>`` with a ``transformer`` of ``shape``: 2 per multiply-add.

    Per token-step (each of ``beam`` hypotheses, each of ``length + 1`` steps), in each decoder
    layer: the q/k/v and output projections of self-attention, the query and output projections
    of encoder attention, the feed-forward block, the attention scores and weighted sums over the
    prefix and the source; then the output projection. Per sentence: the encoder, and the
    encoder output's keys and values for each decoder layer (once: they do not depend on the
    beam)."""
    total = 0
    for s in src_lens:
        steps = sum(step_flops(shape, vocab, t, s) for t in range(length + 1))
        total += source_flops(shape, s) + beam * steps
    return total


# -- runs -----------------------------------------------------------------------------------------


def batches(n: int, batch_size: int, vocab: int, src_lens: list[int], seed: int, device="cpu"):
    """Random sources (left-padded, ending in ``</s>``) of the given lengths, in batches."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, batch_size):
        lens = src_lens[start : start + batch_size]
        width = max(lens)
        src = torch.full((len(lens), width), PAD, dtype=torch.long)
        for i, k in enumerate(lens):
            src[i, width - k :] = torch.randint(4, vocab, (k,), generator=g)
            src[i, -1] = EOS
        out.append(
            {
                "net_input": {
                    "src_tokens": src.to(device),
                    "src_lengths": torch.tensor(lens, device=device),
                }
            }
        )
    return out


def source_lengths(n: int, seed: int, low: int = 10, high: int = 40) -> list[int]:
    """Source lengths (``</s>`` included) uniform in [low, high)."""
    return torch.randint(low, high, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


def run(gen: SequenceGenerator, samples, device="cpu") -> tuple[float, int, list[list[int]]]:
    outputs, tokens = [], 0
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for sample in samples:
        for hyps in gen.generate(sample):
            outputs.append(hyps[0]["tokens"].tolist())
            tokens += len(hyps[0]["tokens"])
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, tokens, outputs


def forced_length_generator(model: nn.Module, vocab: int, beam: int, length: int):
    """``--beam beam --min-len length --max-len-a 0 --max-len-b length``."""
    return SequenceGenerator(
        [model],
        SizedDictionary(vocab),
        beam_size=beam,
        min_len=length,
        max_len_a=0,
        max_len_b=length,
    )


def cpu_has_bf16_units() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def issue_configuration(args) -> None:
    """Section 1 (and 2, the one-sentence latency, with the same model)."""
    torch.manual_seed(0)
    model = transformer_model(ISSUE_SHAPE, ISSUE_VOCAB, share_all=True)
    if model is None:
        print("issue configuration: skipped (seqcore_transformer is not installed)")
        return
    n, bsz, beam, length = args.sentences, args.batch_size, args.beam, args.length
    lens = source_lengths(n, seed=0)
    samples = batches(n, bsz, ISSUE_VOCAB, lens, seed=0)
    flops = decoding_flops(ISSUE_SHAPE, ISSUE_VOCAB, lens, beam, length)
    token_steps = n * beam * (length + 1)
    print(
        f"issue #22 configuration: transformer 3+3 layers, 256 dims, FFN 1024, 4 heads, shared "
        f"{ISSUE_VOCAB} embeddings, random weights; beam {beam}, batches of {bsz}, {n} sentences, "
        f"sources {min(lens)}-{max(lens)} tokens, outputs forced to {length} tokens + </s>; "
        f"{torch.get_num_threads()} threads"
    )
    print(
        f"work: {token_steps:,} decoder token-steps, {flops / 1e12:.3f} TFLOP "
        f"({flops / token_steps / 1e6:.2f} MFLOP per token-step, the encoder included)"
    )
    dtypes = [d for d in args.dtypes.split(",") if d]
    models = {"float32": model}
    if "bf16" in dtypes:
        models["bf16"] = transformer_model(ISSUE_SHAPE, ISSUE_VOCAB, share_all=True)
        models["bf16"].load_state_dict(model.state_dict())
        models["bf16"].to(torch.bfloat16)
    peaks = {d: measured_peak("cpu", d) for d in dtypes}
    best: dict[str, float] = {}
    outputs: dict[str, list] = {}
    for d in dtypes:  # warm-up: one batch each
        run(forced_length_generator(models[d], ISSUE_VOCAB, beam, length), samples[:1])
    for _ in range(args.repeats):  # interleaved: A, B, A, B (the machine's load drifts)
        for d in dtypes:
            gen = forced_length_generator(models[d], ISSUE_VOCAB, beam, length)
            seconds, tokens, out = run(gen, samples)
            best[d] = min(best.get(d, float("inf")), seconds)
            outputs[d] = out
            if any(len(o) != length + 1 for o in out):
                raise SystemExit("an output is not of the forced length")
    print(
        f"{'':>8} {'best s':>8} {'sent/s':>8} {'tokens/s':>9} {'large mm GFLOP/s':>17} "
        f"{'floor s':>8} {'of limit':>9}"
    )
    for d in dtypes:
        seconds = best[d]
        floor = flops / peaks[d]
        print(
            f"{d:>8} {seconds:8.2f} {n / seconds:8.1f} {n * (length + 1) / seconds:9.0f} "
            f"{peaks[d] / 1e9:17.1f} {floor:8.2f} {floor / seconds:8.1%}"
        )
    fraction = flops / peaks["float32"] / best["float32"] if "float32" in best else 0.0
    print(
        f"float32: {fraction:.1%} of the float32 limit (goal >= 30%; fairseq 0.12.2 about 15%) "
        f"{'OK' if fraction >= 0.30 else 'BELOW GOAL'}"
    )
    if "bf16" in best and "float32" in best:
        ratio = best["float32"] / best["bf16"]
        units = cpu_has_bf16_units()
        verdict = ("OK" if ratio >= 1.5 else "BELOW GOAL") if units else "no goal: no bf16 units"
        print(
            f"bf16: {ratio:.2f}x float32 (goal >= 1.5x on CPUs with avx512_bf16/AMX; this CPU "
            f"{'has' if units else 'has none'}) {verdict}"
        )
    one_sentence_latency(models, dtypes, beam, length, args.repeats)


def one_sentence_latency(models, dtypes, beam: int, length: int, repeats: int) -> None:
    """Section 2: the generator's time for a batch of one sentence, as ``interactive`` (with its
    default --buffer-size 1) runs it: the W- line's seconds."""
    sentences = 20
    lens = source_lengths(sentences, seed=2)
    samples = batches(sentences, 1, ISSUE_VOCAB, lens, seed=2)
    for d in dtypes:
        gen = forced_length_generator(models[d], ISSUE_VOCAB, beam, length)
        run(gen, samples[:2])
        times = []
        for _ in range(repeats):
            for sample in samples:
                times.append(run(gen, [sample])[0])
        times.sort()
        print(
            f"interactive, one sentence, beam {beam}, {length} tokens, {d}: median "
            f"{times[len(times) // 2] * 1e3:.1f} ms per batch (best {times[0] * 1e3:.1f} ms, "
            f"{len(times)} batches)"
        )


def cache_versus_recompute(args) -> None:
    """Section 3: the decoder cache against recomputing the whole prefix."""
    torch.manual_seed(0)
    model = transformer_model(SMALL_SHAPE, SMALL_VOCAB, share_all=False)
    name = "transformer plug-in" if model is not None else "GRU fallback"
    model = model if model is not None else gru_model(SMALL_SHAPE, SMALL_VOCAB)
    n, bsz = args.recompute_sentences, 50
    lens = [20] * n
    print(
        f"cache versus recompute: {name}, {sum(p.numel() for p in model.parameters()):,} "
        f"parameters; beam {args.beam}, {n} sentences in batches of {bsz}, source 20 tokens, "
        f"outputs up to 30"
    )
    results = {}
    for label, recompute in (("incremental", False), ("recompute-prefix", True)):
        gen = SequenceGenerator(
            [model],
            SizedDictionary(SMALL_VOCAB),
            beam_size=args.beam,
            max_len_b=30,
            recompute_prefix=recompute,
        )
        run(gen, batches(2, 2, SMALL_VOCAB, [20, 20], seed=1))  # warm-up
        seconds, tokens, outputs = run(gen, batches(n, bsz, SMALL_VOCAB, lens, seed=0))
        results[label] = (seconds, outputs)
        print(
            f"{label:>17}: {seconds:7.2f} s  {n / seconds:8.1f} sentences/s  "
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


def gpu_row(args) -> None:
    """Section 4: bf16 on CUDA, batches of 128, beam 5, against the card's peak."""
    if not torch.cuda.is_available():
        print("GPU row: skipped (no CUDA device)")
        return
    torch.manual_seed(0)
    model = transformer_model(ISSUE_SHAPE, ISSUE_VOCAB, share_all=True)
    if model is None:
        print("GPU row: skipped (seqcore_transformer is not installed)")
        return
    model = model.to(device="cuda", dtype=torch.bfloat16)
    n, bsz, beam, length = args.gpu_sentences, 128, args.beam, args.length
    lens = source_lengths(n, seed=0)
    samples = batches(n, bsz, ISSUE_VOCAB, lens, seed=0, device="cuda")
    flops = decoding_flops(ISSUE_SHAPE, ISSUE_VOCAB, lens, beam, length)
    gen = forced_length_generator(model, ISSUE_VOCAB, beam, length)
    run(gen, samples[:1], "cuda")
    seconds = min(run(gen, samples, "cuda")[0] for _ in range(args.repeats))
    peak = measured_peak("cuda", "bf16")
    name = torch.cuda.get_device_name()
    sheet = vendor_peak(name, "bf16")
    print(
        f"GPU {name}, bf16, beam {beam}, batches of {bsz}, {n} sentences of {length} tokens: "
        f"{seconds:.2f} s, {n / seconds:.1f} sentences/s, {n * (length + 1) / seconds:.0f} "
        f"tokens/s; {flops / seconds / 1e12:.2f} TFLOP/s = {flops / seconds / peak:.1%} of a "
        f"large bf16 product ({peak / 1e12:.0f} TFLOP/s)"
        + (f", {flops / seconds / sheet:.1%} of the data-sheet peak" if sheet else "")
    )


FIXTURE_TRANSFORMER = Path(__file__).resolve().parents[1] / "tests/fixtures/fairseq/transformer"
FIXTURE_DATA = Path(__file__).resolve().parents[1] / "tests/fixtures/fairseq/translation-bin"


def natural_length(args) -> None:
    """Section 5: fairseq's fixture transformer on its test split, outputs of natural length."""
    try:
        from seqcore.interop.convert import import_fairseq

        imported = import_fairseq(str(FIXTURE_TRANSFORMER / "checkpoint.pt"), str(FIXTURE_DATA))
    except Exception as e:  # noqa: BLE001  (the bench goes on without this section)
        print(f"natural lengths: skipped ({type(e).__name__}: {e})")
        return
    model, task, m = imported.model, imported.task, imported.cfg.model
    if m.encoder_layers != m.decoder_layers or m.encoder_embed_dim != m.decoder_embed_dim:
        print("natural lengths: skipped (the floor's formula wants a symmetric model)")
        return
    shape = {
        "embed_dim": m.decoder_embed_dim,
        "ffn_embed_dim": m.decoder_ffn_embed_dim,
        "layers": m.decoder_layers,
    }
    tgt_dict = task.target_dictionary
    vocab = len(tgt_dict)
    task.load_dataset("test")
    itr = task.get_batch_iterator(task.dataset("test"), max_sentences=args.batch_size)
    samples = list(itr.next_epoch_itr(shuffle=False))
    n = sum(len(s["id"]) for s in samples)
    gen = SequenceGenerator([model], tgt_dict, beam_size=args.beam)  # length defaults

    # the floor counts what the search ran: each decoder call's rows at its step, and each
    # batch's encoder over its (padded) source width
    work = {"flops": 0, "src_len": 0}

    def count_rows(_module, inputs, kwargs):
        prev = inputs[0] if inputs else kwargs["prev_output_tokens"]
        work["flops"] += prev.size(0) * step_flops(shape, vocab, prev.size(1) - 1, work["src_len"])

    hook = model.decoder.register_forward_pre_hook(count_rows, with_kwargs=True)
    try:
        run(gen, samples[:1])  # warm-up
        best, best_cpu, flops, tokens = float("inf"), float("inf"), 0, 0
        for _ in range(args.repeats):
            work["flops"] = 0
            start, start_cpu = time.perf_counter(), time.process_time()
            tokens = 0
            for sample in samples:
                src = sample["net_input"]["src_tokens"]
                work["src_len"] = src.size(1)
                work["flops"] += src.size(0) * source_flops(shape, src.size(1))
                for hyps in gen.generate(sample):
                    tokens += len(hyps[0]["tokens"])
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
            flops = work["flops"]
    finally:
        hook.remove()
    peak = measured_peak("cpu", "float32")
    floor = flops / peak
    print(
        f"natural lengths: fairseq 0.12.2's fixture transformer ({m.decoder_layers}+"
        f"{m.decoder_layers} layers, {m.decoder_embed_dim} dims, FFN {m.decoder_ffn_embed_dim}, "
        f"{vocab} target symbols; a tiny synthetic corpus, not real data), its test split: {n} "
        f"sentences, beam {args.beam}, batches of {args.batch_size}, length defaults; "
        f"{tokens / n:.1f} tokens per output on average"
    )
    print(
        f"natural lengths, float32: {best:.2f} s ({best_cpu:.2f} s CPU), {n / best:.1f} "
        f"sentences/s, {tokens / best:.0f} tokens/s; {flops / 1e9:.2f} GFLOP of decoding work, "
        f"floor {floor:.3f} s at {peak / 1e9:.1f} GFLOP/s: {floor / best:.1%} of the float32 limit"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=550)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--length", type=int, default=30, help="forced output length")
    parser.add_argument("--dtypes", default="float32,bf16")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs, best kept")
    parser.add_argument("--recompute-sentences", type=int, default=200)
    parser.add_argument("--gpu-sentences", type=int, default=2048)
    parser.add_argument(
        "--sections",
        default="issue,natural,recompute,gpu",
        help="issue, natural, recompute, gpu (comma-separated)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sections = args.sections.split(",")
    if "issue" in sections:
        issue_configuration(args)
    if "natural" in sections:
        natural_length(args)
    if "recompute" in sections:
        cache_versus_recompute(args)
    if "gpu" in sections:
        gpu_row(args)


if __name__ == "__main__":
    main()
