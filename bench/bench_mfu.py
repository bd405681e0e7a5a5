"""Model FLOPs utilisation of `seqcore train` (the issue's CUDA figure: bf16 transformer_wmt_en_de).

Runs `seqcore train` on a generated corpus (the one of bench_train.py), reads the time of each
update from its JSON log, rebuilds the same batches here (same seed and batching), and counts the
matrix-product FLOPs of each with seqcore_transformer.flops (per sentence pair: padding is not
useful work). Two denominators:

- the peak of a large matrix product in the same precision, measured on the same device in the
  same run (a ratio against a baseline of this machine);
- the vendor's dense peak for the card, when it is a known one or given with --peak-tflops.

Prints one table and rewrites the "mfu" section of bench/RESULTS.md with the device it ran on.

    python bench/bench_mfu.py [--arch transformer_wmt_en_de] [--precision bf16] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_train import (  # noqa: E402
    OUT,
    TRAIN,
    _run_measured,
    batch_flops,
    make_corpus,
    measured_peak,
    record_results,
)

# dense bf16 tensor-core peaks from the vendors' data sheets, TFLOP/s
VENDOR_BF16_TFLOPS = {
    "H100 SXM": 989.4,
    "H100 80GB HBM3": 989.4,
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "H200": 989.4,
    "A100": 312.0,
    "L40S": 362.1,
}


def vendor_peak(device_name: str, precision: str) -> float | None:
    """The data-sheet bf16 peak of a known NVIDIA card (longest matching name), in FLOP/s."""
    if precision != "bf16":
        return None
    matches = [k for k in VENDOR_BF16_TFLOPS if k in device_name]
    return VENDOR_BF16_TFLOPS[max(matches, key=len)] * 1e12 if matches else None


def model_config(arch: str):
    """The resolved config of the ``transformer`` architecture ``arch``."""
    import types

    import seqcore_transformer  # noqa: F401  (registers the architectures)
    from seqcore.config import make_config
    from seqcore.registry import ARCHITECTURES
    from seqcore_transformer import TransformerConfig

    namespace = types.SimpleNamespace()
    ARCHITECTURES.get(arch).obj(namespace)
    return make_config(TransformerConfig, "transformer", vars(namespace))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="transformer_wmt_en_de")
    p.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--max-tokens", type=int, default=4096)
    p.add_argument("--updates", type=int, default=16)
    p.add_argument("--skip", type=int, default=4)
    p.add_argument("--peak-tflops", type=float, help="the device's peak, when not in the table")
    args = p.parse_args()

    import torch

    device = (
        args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {os.cpu_count()} cores"
    data = make_corpus(OUT)
    cfg = model_config(args.arch)
    train = list(TRAIN)
    train[train.index("--max-tokens") + 1] = str(args.max_tokens)
    save = OUT / "mfu-ck"
    shutil.rmtree(save, ignore_errors=True)
    cmd = [
        shutil.which("seqcore") or "seqcore", "train", str(data), "-a", args.arch, *train,
        "--max-update", str(args.updates), "--no-save", "--save-dir", str(save),
        "--log-format", "json", "--log-interval", "1", "--device", device,
        "--disable-validation",
    ] + (["--bf16"] if args.precision == "bf16" else [])  # fmt: skip
    out, rss = _run_measured(cmd)
    inner = [
        r
        for r in map(json.loads, (x for x in out.stdout.splitlines() if x.startswith("{")))
        if r["kind"] == "train_inner"
    ]
    flops = batch_flops(data, cfg, args.max_tokens, args.updates)
    timed = range(args.skip, len(inner))
    seconds = sum(inner[i]["wpb"] / inner[i]["wps"] for i in timed)
    achieved = sum(flops[i] for i in timed) / seconds
    wps = sum(inner[i]["wpb"] for i in timed) / seconds
    gemm = measured_peak(device, args.precision)
    peak = args.peak_tflops * 1e12 if args.peak_tflops else vendor_peak(name, args.precision)
    lines = [
        f"{args.arch}, {args.precision}, --max-tokens {args.max_tokens}, on {name}, "
        f"torch {torch.__version__}",
        f"updates timed: {len(timed)} (after {args.skip}); {wps:,.0f} target tokens/s; "
        f"peak RSS {rss:,.0f} MiB",
        f"model FLOPs achieved: {achieved / 1e12:.3f} TFLOP/s",
        f"large {args.precision} matrix product on this device: {gemm / 1e12:.3f} TFLOP/s; "
        f"ratio {achieved / gemm:.3f}",
        f"MFU against the data-sheet peak ({peak / 1e12:.1f} TFLOP/s): {achieved / peak:.1%}"
        if peak
        else "data-sheet peak: unknown for this device (give --peak-tflops)",
    ]
    table = "\n".join(lines)
    print(table)
    command = f"python bench/bench_mfu.py --arch {args.arch} --precision {args.precision}"
    record_results("mfu", table, command)


if __name__ == "__main__":
    main()
