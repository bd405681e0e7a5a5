"""The porting docs are true of the code: every seqcore name the fairseq name map lists exists,
and the Simple LSTM tutorial page's code and commands, run as written, train and decode."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
from core.porting.helpers import isolated_plugins

from seqcore.loader import load_user_dir
from seqcore.testing import check_model
from seqcore.testing.cli import run_cli

DOCS = Path(__file__).resolve().parents[3] / "docs"
PORTING = DOCS / "porting-from-fairseq.md"
TUTORIAL = DOCS / "plugins" / "tutorial-simple-lstm.md"


def name_map_rows() -> list[tuple[str, str]]:
    text = PORTING.read_text()
    table = text.split("### Names", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    return [(fairseq.strip(), seqcore.strip()) for fairseq, seqcore in rows]


def seqcore_names() -> list[str]:
    names = [n for _, cell in name_map_rows() for n in re.findall(r"`(seqcore\.[\w.]+)`", cell)]
    assert len(names) > 40  # the table was read
    return names


@pytest.mark.parametrize("name", seqcore_names())
def test_every_seqcore_name_in_the_map_exists(name):
    module, _, attribute = name.rpartition(".")
    try:
        found = importlib.import_module(name)  # a module itself
    except ModuleNotFoundError:
        found = getattr(importlib.import_module(module), attribute)
    assert found is not None


def test_every_row_names_a_seqcore_counterpart_or_says_why_not():
    for fairseq, seqcore in name_map_rows():
        assert fairseq.startswith("`"), fairseq
        assert "`seqcore." in seqcore or seqcore == "-", (fairseq, seqcore)


def blocks(language: str, legacy: bool = False) -> list[str]:
    """The page's code blocks in ``language``, of the seqcore-style sections or of the legacy
    route's section."""
    parts = TUTORIAL.read_text().split("## The legacy route", 1)
    found = re.findall(r"^```(\w*)\n(.*?)^```$", parts[legacy], re.S | re.M)
    return [body for lang, body in found if lang == language]


def test_the_legacy_routes_imports_import():
    (imports,) = blocks("python", legacy=True)
    namespace: dict = {}
    exec(re.sub(r"#.*", "", imports), namespace)
    assert namespace["FairseqIncrementalDecoder"].__name__ == "Decoder"


def command(block: str, **replace: str) -> list[str]:
    words = shlex.split(block.replace("\\\n", " "))
    assert words[0] == "seqcore"
    return [replace.get(w, w) for w in words[1:]]


def test_the_tutorial_pages_model_trains_and_decodes_as_written(data, tmp_path):
    user_dir = tmp_path / "simple_lstm"
    user_dir.mkdir()
    (user_dir / "__init__.py").write_text("\n\n".join(blocks("python")))
    train, generate = blocks("bash")
    where = {"data-bin/iwslt14.tokenized.de-en": str(data), "simple_lstm": str(user_dir)}
    small = ["--encoder-embed-dim", "16", "--encoder-hidden-dim", "16",
             "--decoder-embed-dim", "16", "--decoder-hidden-dim", "16"]  # fmt: skip
    save = ["--save-dir", str(tmp_path / "checkpoints")]
    with isolated_plugins():
        trained = run_cli(
            *command(train, **where), *small, *save, "--max-update", "3", "--num-workers", "0"
        )
        assert trained.returncode == 0, trained.stderr
        where["checkpoints/checkpoint_best.pt"] = str(tmp_path / "checkpoints/checkpoint_best.pt")
        args = [*command(generate, **where), "--max-len-b", "5"]
        cached = run_cli(*args)
        assert cached.returncode == 0, cached.stderr
        recomputed = run_cli(*args, "--recompute-prefix")
        hypotheses = [re.findall(r"^H-\d+\t.*$", r.stdout, re.M) for r in (cached, recomputed)]
        assert len(hypotheses[0]) == 16 and hypotheses[0] == hypotheses[1]
        load_user_dir(user_dir)  # run_cli forgets a run's user dirs when it ends
        check_model("tutorial_simple_lstm", dict(zip(small[::2], map(int, small[1::2]))))
