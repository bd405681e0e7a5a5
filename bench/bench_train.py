"""`seqcore train` throughput and memory against a minimal hand-written PyTorch loop.

Configuration (the issue's reference point): transformer 2+2 layers, 256 dim, 1024 FFN, 4 heads,
adam (0.9, 0.98), lr 5e-4, inverse_sqrt with 4000 warmup updates, label-smoothed cross entropy
0.1, --max-tokens 4096, on a generated corpus. fairseq 0.12.2 trains it at about 6,200 target
tokens/s (wps) in float32 on a 2-core machine like this one, with 1,011 MiB peak RSS.

The hand-written loop uses the same model class, the same batches (seqcore's batching) and
torch's fused AdamW directly, in a process started with the allocator settings that ``seqcore
train`` makes for itself (glibc's small-block cache off, freed memory kept in the heap:
seqcore/cli/memory.py); each run is its own process so peak RSS is its own. The
loop and ``seqcore train`` run in the order A B B A (float32, then bf16) so that the machine's
drift in speed falls on both alike. Prints one table and rewrites the "train" section of
bench/RESULTS.md.

The first 60 updates are not timed: under --bf16 they are where oneDNN builds (and caches) its
kernels for the batches' row counts, and where the heap grows to its size, which a training run
of thousands of updates does once; the speed it then keeps is what the table reports.

    python bench/bench_train.py [--updates 120] [--skip 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out" / "train"
FAIRSEQ_WPS = 6200
FAIRSEQ_RSS_MIB = 1011
DIMS = {
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_embed_dim": 256,
    "decoder_embed_dim": 256,
    "encoder_ffn_embed_dim": 1024,
    "decoder_ffn_embed_dim": 1024,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
}
ARCH = ["-a", "transformer"] + [
    item for key, value in DIMS.items() for item in (f"--{key.replace('_', '-')}", str(value))
]
TRAIN = [
    "--optimizer",
    "adam",
    "--adam-betas",
    "(0.9, 0.98)",
    "--lr",
    "5e-4",
    "--lr-scheduler",
    "inverse_sqrt",
    "--warmup-updates",
    "4000",
    "--criterion",
    "label_smoothed_cross_entropy",
    "--label-smoothing",
    "0.1",
    "--max-tokens",
    "4096",
    "--seed",
    "1",
]


def make_corpus(folder: Path, n_train: int = 20000, n_valid: int = 300, vocab: int = 1004) -> Path:
    """A parallel corpus of Zipf-distributed words with natural sentence lengths, binarized.
    1,004 words make dictionaries of 1,008 symbols each, the size of the reference model in
    fairseq-facts.md (4,460,544 parameters)."""
    if (folder / "data-bin" / "train.src-tgt.tgt.idx").exists():
        return folder / "data-bin"
    from seqcore.data.dictionary import Dictionary
    from seqcore.data.indexed_dataset import MMapIndexedDatasetBuilder, best_dtype

    rng = random.Random(0)
    weights = [1.0 / (i + 1) for i in range(vocab)]
    words = [f"w{i}" for i in range(vocab)]
    splits = {}
    for split, n in [("train", n_train), ("valid", n_valid)]:
        pairs = []
        for _ in range(n):
            length = max(2, min(120, int(rng.lognormvariate(3.0, 0.5))))
            src = rng.choices(words, weights, k=length)
            tgt = rng.choices(words, weights, k=max(2, int(length * rng.uniform(0.8, 1.2))))
            pairs.append((src, tgt))
        splits[split] = pairs
    dest = folder / "data-bin"
    dest.mkdir(parents=True, exist_ok=True)
    for side, lang in [(0, "src"), (1, "tgt")]:
        d = Dictionary()
        for pair in splits["train"]:
            for w in pair[side]:
                d.add_symbol(w)
        d.finalize()
        d.save(str(dest / f"dict.{lang}.txt"))
        for split, pairs in splits.items():
            prefix = dest / f"{split}.src-tgt.{lang}"
            b = MMapIndexedDatasetBuilder(f"{prefix}.bin", dtype=best_dtype(len(d)))
            for pair in pairs:
                b.add_item(d.encode_line(" ".join(pair[side]), add_if_not_exist=False))
            b.finalize(f"{prefix}.idx")
    return dest


def measured_peak(device: str, precision: str) -> float:
    """FLOP/s of a 4096 x 4096 x 4096 matrix product in the run's precision (best of 5)."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    n = 4096 if device == "cuda" else 2048
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(6):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10 if device == "cuda" else 2):
            a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) / (10 if device == "cuda" else 2))
    return 2 * n**3 / best


def batch_flops(data: Path, cfg, max_tokens: int, n: int) -> list[int]:
    """Training FLOPs of each of the first ``n`` batches `seqcore train` makes (same seed)."""
    from seqcore.config import make_config
    from seqcore.data.iterators import get_batch_iterator
    from seqcore.tasks.translation import TranslationConfig, TranslationTask
    from seqcore_transformer.flops import training_flops

    task = TranslationTask.setup_task(
        make_config(TranslationConfig, "translation", {"data": str(data)})
    )
    task.load_dataset("train")
    pad, vocab = task.target_dictionary.pad(), len(task.target_dictionary)
    positions = (cfg.max_source_positions, cfg.max_target_positions)
    itr = get_batch_iterator(
        task.dataset("train"),
        max_tokens=max_tokens,
        max_positions=positions,
        required_batch_size_multiple=8,
        seed=1,
    )
    flops = []
    for _, sample in zip(range(n), itr.next_epoch_itr(shuffle=True)):
        src = sample["net_input"]["src_lengths"].tolist()
        tgt = sample["target"].ne(pad).sum(1).tolist()
        flops.append(sum(training_flops(cfg, vocab, s, t) for s, t in zip(src, tgt)))
    return flops


def run_seqcore(
    data: Path, updates: int, skip: int, extra: list[str], env: dict[str, str] | None = None
) -> dict:
    save = OUT / "ck"
    shutil.rmtree(save, ignore_errors=True)
    cmd = [
        shutil.which("seqcore") or "seqcore",
        "train",
        str(data),
        *ARCH,
        *TRAIN,
        "--max-update",
        str(updates),
        "--no-save",
        "--save-dir",
        str(save),
        "--log-format",
        "json",
        "--log-interval",
        "1",
        "--num-workers",
        "1",
        *extra,
    ]
    start = time.perf_counter()
    out, rss_mib = _run_measured(cmd, {**os.environ, **env} if env else None)
    wall = time.perf_counter() - start
    records = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    inner = [r for r in records if r["kind"] == "train_inner"]
    timed = inner[skip:]
    tokens = sum(r["wpb"] for r in timed)
    seconds = sum(r["wpb"] / r["wps"] for r in timed)
    valid = [r for r in records if r["kind"] == "valid"]
    return {
        "wps": tokens / seconds,
        "seconds": seconds,
        "rss_mib": rss_mib,
        "wall": wall,
        "valid_loss": valid[-1]["loss"] if valid else None,
    }


def _run_measured(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``cmd``; its output and its own peak resident memory in MiB (from wait4)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed:\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(cmd, 0, stdout, stderr), usage.ru_maxrss / 1024


def mimalloc_library() -> str | None:
    """libmimalloc.so of the cmeel-mimalloc distribution (the nox bench session installs it),
    or ``None`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        files = distribution("cmeel-mimalloc").files or []
    except PackageNotFoundError:
        return None
    found = [f for f in files if f.name == "libmimalloc.so"]
    return str(found[0].locate()) if found else None


def hand_loop(data: str, updates: int, skip: int, bf16: bool) -> None:
    """The baseline: a plain loop over the same model, batches and optimizer."""
    import torch
    import torch.nn.functional as F

    from seqcore.config import make_config
    from seqcore.data.iterators import get_batch_iterator
    from seqcore.tasks.translation import TranslationConfig, TranslationTask
    from seqcore_transformer import TransformerConfig, TransformerModel

    torch.manual_seed(1)
    task = TranslationTask.setup_task(make_config(TranslationConfig, "translation", {"data": data}))
    task.load_dataset("train")
    model = TransformerModel.build_model(make_config(TransformerConfig, "transformer", DIMS), task)
    opt = torch.optim.AdamW(
        model.parameters(), lr=5e-4, betas=(0.9, 0.98), weight_decay=0.0, fused=True
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda n: min((n + 1) / 4000, (4000 / (n + 1)) ** 0.5)
    )
    pad = task.target_dictionary.pad()
    itr = get_batch_iterator(
        task.dataset("train"),
        max_tokens=4096,
        max_positions=(1024, 1024),
        required_batch_size_multiple=8,
        seed=1,
        num_workers=1,
    )
    batches = itr.next_epoch_itr(shuffle=True)
    model.train()
    tokens = 0
    start = None
    for step in range(updates):
        if step == skip:
            start, tokens = time.perf_counter(), 0
        sample = next(batches)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, _ = model(**sample["net_input"])
        loss = F.cross_entropy(
            logits.float().view(-1, logits.size(-1)),
            sample["target"].view(-1),
            ignore_index=pad,
            reduction="sum",
            label_smoothing=0.1,
        )
        opt.zero_grad(set_to_none=True)
        (loss / sample["ntokens"]).backward()
        opt.step()
        sched.step()
        tokens += sample["ntokens"]
    print(json.dumps({"wps": tokens / (time.perf_counter() - start)}))


def run_hand(data: Path, updates: int, skip: int, bf16: bool) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--hand-loop",
        str(data),
        "--updates",
        str(updates),
        "--skip",
        str(skip),
    ] + (["--bf16"] if bf16 else [])
    from seqcore.cli.memory import training_tunables

    env = {**os.environ, "GLIBC_TUNABLES": training_tunables(os.environ.get("GLIBC_TUNABLES", ""))}
    out, rss_mib = _run_measured(cmd, env)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "rss_mib": rss_mib}


def paired(run_a: Callable[[], dict], run_b: Callable[[], dict]) -> tuple[dict, dict]:
    """Runs A, B, B, A; for each of A and B its mean wps and timed seconds, its larger peak RSS
    and its last run's other figures."""
    a1, b1, b2, a2 = run_a(), run_b(), run_b(), run_a()

    def merged(first: dict, second: dict) -> dict:
        return {
            **second,
            "wps": (first["wps"] + second["wps"]) / 2,
            "seconds": (first.get("seconds", 0.0) + second.get("seconds", 0.0)) / 2,
            "rss_mib": max(first["rss_mib"], second["rss_mib"]),
        }

    return merged(a1, a2), merged(b1, b2)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--updates", type=int, default=120)
    p.add_argument("--skip", type=int, default=60)
    p.add_argument("--hand-loop", metavar="DATA")
    p.add_argument("--bf16", action="store_true")
    args = p.parse_args()
    if args.hand_loop:
        hand_loop(args.hand_loop, args.updates, args.skip, args.bf16)
        return
    data = make_corpus(OUT)
    rows = []
    # the machine's speed drifts over minutes: each comparison runs in the order A B B A and
    # reports the mean speed (and the larger peak RSS) of the two runs of each
    hand32, sc32 = paired(
        lambda: run_hand(data, args.updates, args.skip, bf16=False),
        lambda: run_seqcore(data, args.updates, args.skip, []),
    )
    rows.append(("hand-written loop, float32", hand32))
    rows.append(("seqcore train, float32", sc32))
    hand16, sc16 = paired(
        lambda: run_hand(data, args.updates, args.skip, bf16=True),
        lambda: run_seqcore(data, args.updates, args.skip, ["--bf16"]),
    )
    rows.append(("hand-written loop, bf16", hand16))
    rows.append(("seqcore train --bf16", sc16))
    # glibc returning every block over 64 KiB to the kernel: RSS is then (nearly) the memory
    # in use, which shows how much of the peak is the heap's fragmentation, at a cost in speed
    exact = run_seqcore(data, args.updates, args.skip, [], {"MALLOC_MMAP_THRESHOLD_": "65536"})
    rows.append(("seqcore train, float32, (*)", exact))
    # the transformer's --checkpoint-activations: activations recomputed in the backward pass
    rows.append(
        (
            "seqcore train, float32, (ca)",
            run_seqcore(data, args.updates, args.skip, ["--checkpoint-activations"]),
        )
    )
    mimalloc = mimalloc_library()
    if mimalloc:  # another allocator under the same process: what it does to speed and memory
        rows.append(
            (
                "seqcore train, float32, (+)",
                run_seqcore(data, args.updates, args.skip, [], {"LD_PRELOAD": mimalloc}),
            )
        )
    lines = [
        f"{'run':30} {'wps':>8} {'peak RSS MiB':>14} {'x hand loop':>12} {'x fairseq':>10}",
    ]
    for name, r in rows:
        base = hand16 if "bf16" in name else hand32
        lines.append(
            f"{name:30} {r['wps']:8.0f} {r['rss_mib']:14.0f} "
            f"{r['wps'] / base['wps']:12.3f} {r['wps'] / FAIRSEQ_WPS:10.2f}"
        )
    apart = 100 * abs(sc16["valid_loss"] / sc32["valid_loss"] - 1)
    lines.append(
        f"bf16 / float32 (seqcore): {sc16['wps'] / sc32['wps']:.2f}x; valid loss after "
        f"{args.updates} updates: float32 {sc32['valid_loss']:.4f}, bf16 "
        f"{sc16['valid_loss']:.4f} ({apart:.2f}% apart)"
    )
    lines.append(model_flops_line(data, args, sc32, sc16))
    lines.append(
        f"peak RSS: each run's own process (wait4); fairseq 0.12.2 reference: {FAIRSEQ_WPS} wps, "
        f"{FAIRSEQ_RSS_MIB} MiB; the hand-written loop builds torch.optim.AdamW, whose first use "
        "imports torch._dynamo (~70 MiB)"
    )
    lines.append(
        "(*) with MALLOC_MMAP_THRESHOLD_=65536: glibc gives every block over 64 KiB back to the "
        "kernel when freed,\n    so the peak RSS is about the memory in use; the rest of the "
        "float32 run's peak is heap fragmentation"
    )
    lines.append(
        "(ca) with --checkpoint-activations: each layer's activations recomputed in the backward "
        "pass instead of kept"
    )
    lines.append(
        "(+) with LD_PRELOAD=libmimalloc.so (pip install cmeel-mimalloc): mimalloc instead of "
        "glibc's malloc"
        if mimalloc
        else "(+) not run: cmeel-mimalloc is not installed (the nox bench session installs it)"
    )
    table = "\n".join(lines)
    print(table)
    command = f"python bench/bench_train.py --updates {args.updates} --skip {args.skip}"
    record_results("train", table, command)


def model_flops_line(data: Path, args: argparse.Namespace, sc32: dict, sc16: dict) -> str:
    """Matrix-product FLOP/s of the seqcore runs over their timed batches, against a large
    matrix product of the same precision on this machine."""
    from seqcore.config import make_config
    from seqcore_transformer import TransformerConfig

    cfg = make_config(TransformerConfig, "transformer", DIMS)
    flops = sum(batch_flops(data, cfg, 4096, args.updates)[args.skip :])
    parts = []
    for name, run, precision in [("float32", sc32, "fp32"), ("bf16", sc16, "bf16")]:
        achieved, peak = flops / run["seconds"], measured_peak("cpu", precision)
        parts.append(
            f"{name} {achieved / 1e9:.0f} GFLOP/s = {achieved / peak:.0%} of a large "
            f"{precision} matrix product ({peak / 1e9:.0f})"
        )
    return "model FLOPs (seqcore train): " + "; ".join(parts)


def cpu_name() -> str:
    """The processor's model name (figures differ between machine kinds), else its arch."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def record_results(section: str, table: str, command: str) -> None:
    """Rewrite the ``section`` of bench/RESULTS.md with ``table``, the command and the machine."""
    path = ROOT / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    header = f"## {section}\n"
    machine = (
        f"{cpu_name()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    body = f"{header}\n`{command}` on {machine}:\n\n```\n{table}\n```\n"
    if header in text:
        start = text.index(header)
        end = text.find("\n## ", start + 1)
        text = text[:start] + body + (text[end + 1 :] if end != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + body
    path.write_text(text)


if __name__ == "__main__":
    main()
