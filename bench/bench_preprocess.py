"""Benchmark: `seqcore preprocess` throughput and random access into a binarized dataset.

Run with ``python bench/bench_preprocess.py`` (about a minute on 2 cores). It

1. writes a synthetic 200k-sentence-pair corpus (Zipf-distributed words, some non-ASCII),
2. times seqcore's preprocess (dictionaries + binarization) with --workers 1 and 2 against a
   plain-Python baseline measured in the same run (read lines, split, look up each token in a
   dict, write an array), and binarization alone with given dictionaries against the baseline's
   binarization loop; every seqcore output is checked byte for byte against the baseline's,
3. builds a 1M-sentence dataset and times ``ds[i]`` at random ``i`` (median), and opening it
   next to a 64 GiB sparse ``.bin`` (opening must not read the ``.bin``).

Timings are the best of ``--repeat`` runs, wall clock and CPU time (this process plus its worker
processes; on a busy machine CPU time is the steadier figure); the ratios say how many times
faster seqcore is than the baseline.
"""

from __future__ import annotations

import argparse
import array
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter

import numpy as np

from seqcore.data.dictionary import Dictionary
from seqcore.data.indexed_dataset import MMapIndexedDataset, MMapIndexedDatasetBuilder, write_index
from seqcore.data.preprocess import PreprocessOptions, run_preprocess

LETTERS = list("abcdefghijklmnopqrstuvwxyz") + ["ä", "ö", "ü", "ß", "é"]


def make_vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    lengths = np.clip(rng.poisson(5, size) + 1, 1, 18)
    letters = rng.integers(0, 26, lengths.sum())
    accents = rng.random(lengths.sum()) < 0.02  # a few non-ASCII letters, as in real text
    letters[accents] = rng.integers(26, len(LETTERS), accents.sum())
    words, pos = [], 0
    for n in lengths:
        words.append("".join(LETTERS[c] for c in letters[pos : pos + n]))
        pos += n
    return list(dict.fromkeys(words))


def write_side(path: str, vocab: list[str], nlines: int, rng: np.random.Generator) -> None:
    lengths = rng.integers(4, 40, nlines)
    ranks = np.minimum(rng.zipf(1.15, lengths.sum()), len(vocab)) - 1
    tokens = [vocab[r] for r in ranks]
    with open(path, "w", encoding="utf-8") as f:
        pos = 0
        for n in lengths:
            f.write(" ".join(tokens[pos : pos + n]) + "\n")
            pos += n


def make_corpus(folder: str, pairs: int) -> str:
    rng = np.random.default_rng(0)
    for lang, size in (("de", 40000), ("en", 30000)):
        vocab = make_vocabulary(rng, size)
        write_side(os.path.join(folder, f"train.{lang}"), vocab, pairs, rng)
    return os.path.join(folder, "train")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def best_of(repeat: int, fn) -> tuple[float, float]:
    """(best wall-clock seconds, best CPU seconds) over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return min(walls), min(cpus)


# -- the baseline: what a straightforward Python implementation does ----------------------------
def baseline_dictionary(path: str) -> Dictionary:
    counts: Counter[str] = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
    return Dictionary.from_counts(counts)


def baseline_binarize(path: str, d: Dictionary, prefix: str) -> None:
    indices, unk, eos = d.indices, d.unk(), d.eos()
    ids, sizes = array.array("H"), array.array("q")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line_ids = [indices.get(w, unk) for w in line.split()]
            line_ids.append(eos)
            ids.extend(line_ids)
            sizes.append(len(line_ids))
    with open(prefix + ".bin", "wb") as f:
        f.write(ids.tobytes())
    write_index(prefix + ".idx", np.uint16, np.frombuffer(sizes, dtype=np.int64))


def baseline_preprocess(trainpref: str, out: str, dicts: dict[str, Dictionary] | None) -> None:
    os.makedirs(out, exist_ok=True)
    for lang in ("de", "en"):
        d = dicts[lang] if dicts else baseline_dictionary(f"{trainpref}.{lang}")
        if not dicts:
            d.save(os.path.join(out, f"dict.{lang}.txt"))
        baseline_binarize(f"{trainpref}.{lang}", d, os.path.join(out, f"train.de-en.{lang}"))


def same_files(a: str, b: str, names: list[str]) -> bool:
    return all(
        open(os.path.join(a, n), "rb").read() == open(os.path.join(b, n), "rb").read()
        for n in names
    )


def bench_preprocess(tmp: str, pairs: int, repeat: int) -> None:
    start = time.perf_counter()
    trainpref = make_corpus(tmp, pairs)
    mb = sum(os.path.getsize(f"{trainpref}.{lang}") for lang in ("de", "en")) / 1e6
    print(f"corpus: {pairs} sentence pairs, {mb:.1f} MB ({time.perf_counter() - start:.1f} s)")
    names = ["dict.de.txt", "dict.en.txt"] + [
        f"train.de-en.{lang}.{ext}" for lang in ("de", "en") for ext in ("bin", "idx")
    ]

    def fresh(name: str) -> str:
        path = os.path.join(tmp, name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    def seqcore_run(workers: int, dicts: bool) -> None:
        out = fresh(f"seqcore{workers}{'d' if dicts else ''}")
        given = {}
        if dicts:
            given = {"srcdict": f"{tmp}/base/dict.de.txt", "tgtdict": f"{tmp}/base/dict.en.txt"}
        opts = PreprocessOptions(source_lang="de", target_lang="en", trainpref=trainpref,
                                 destdir=out, workers=workers, **given)  # fmt: skip
        run_preprocess(opts, echo=lambda line: None)

    t_base = best_of(repeat, lambda: baseline_preprocess(trainpref, fresh("base"), None))
    base_dicts = {lang: Dictionary.load(f"{tmp}/base/dict.{lang}.txt") for lang in ("de", "en")}
    t_base_bin = best_of(repeat, lambda: baseline_preprocess(trainpref, fresh("base"), base_dicts))
    baseline_preprocess(trainpref, fresh("base"), None)
    rows = [("plain-Python baseline", t_base, None)]
    for workers in (1, 2):
        t = best_of(repeat, lambda w=workers: seqcore_run(w, False))
        ok = same_files(os.path.join(tmp, "base"), os.path.join(tmp, f"seqcore{workers}"), names)
        rows.append((f"seqcore preprocess --workers {workers}", t, ok))
    report(f"dictionaries + binarization ({2 * pairs} sentences)", rows, 2 * pairs)

    rows = [("plain-Python baseline", t_base_bin, None)]
    for workers in (1, 2):
        t = best_of(repeat, lambda w=workers: seqcore_run(w, True))
        ok = same_files(os.path.join(tmp, "base"), os.path.join(tmp, f"seqcore{workers}d"),
                        names[2:])  # fmt: skip
        rows.append((f"seqcore (given dicts) --workers {workers}", t, ok))
    report(f"binarization only, dictionaries given ({2 * pairs} sentences)", rows, 2 * pairs)


def report(title: str, rows: list, sentences: int) -> None:
    (base_wall, base_cpu) = rows[0][1]
    print(f"\n{title}:")
    print(f"  {'':36s} {'wall':>7s} {'sents/s':>10s} {'x base':>7s} {'cpu':>7s} {'x base':>7s}")
    for name, (wall, cpu), ok in rows:
        check = "" if ok is None else ("  output identical" if ok else "  OUTPUT DIFFERS")
        print(f"  {name:36s} {wall:6.2f}s {sentences / wall:>10,.0f} {base_wall / wall:6.2f}x "
              f"{cpu:6.2f}s {base_cpu / cpu:6.2f}x{check}")  # fmt: skip


def bench_random_access(tmp: str, items: int, lookups: int) -> None:
    rng = np.random.default_rng(1)
    sizes = rng.integers(5, 50, items)
    ids = rng.integers(4, 40000, sizes.sum()).astype(np.uint16)
    prefix = os.path.join(tmp, "big")
    builder = MMapIndexedDatasetBuilder(prefix + ".bin", dtype=np.uint16)
    builder.add_items(ids, sizes)
    builder.finalize(prefix + ".idx")

    sparse = os.path.join(tmp, "sparse")
    shutil.copy(prefix + ".idx", sparse + ".idx")
    with open(sparse + ".bin", "wb") as f:
        f.truncate(64 << 30)  # 64 GiB, no blocks on disk

    def open_time(p: str) -> float:
        return statistics.median([best_of(1, lambda: MMapIndexedDataset(p))[0] for _ in range(5)])

    t_open, t_open_sparse = open_time(prefix), open_time(sparse)
    ds = MMapIndexedDataset(prefix)
    order = rng.integers(0, items, lookups)
    ds[0]  # map the .bin
    times = np.empty(lookups)
    clock = time.perf_counter
    for k, i in enumerate(order.tolist()):
        start = clock()
        ds[i]
        times[k] = clock() - start
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for i in order[:1000].tolist():
        assert np.array_equal(ds[i].numpy(), ids[offsets[i] : offsets[i + 1]])
    gb = os.path.getsize(prefix + ".bin") / 1e9
    print(f"\nrandom access ({items:,} sentences, {gb:.2f} GB .bin, {lookups:,} lookups):")
    print(f"  ds[i] median {np.median(times) * 1e6:.1f} us, p99 "
          f"{np.percentile(times, 99) * 1e6:.1f} us (target < 20 us)")  # fmt: skip
    print(f"  open: {t_open * 1e3:.2f} ms with its .bin, {t_open_sparse * 1e3:.2f} ms next to a "
          "64 GiB sparse .bin (the .bin is not read)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cpus")
    tmp = tempfile.mkdtemp(prefix="seqcore-bench-")
    try:
        bench_preprocess(tmp, args.pairs, args.repeat)
        bench_random_access(tmp, args.items, args.lookups)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
