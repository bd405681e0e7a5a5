"""A plug-in's hook that raises while training runs stops the run cleanly, as Ctrl-C does."""

from support import TINY_TRANSFORMER as TINY
from support import json_records, run_cli, train_tiny, write

RAISING = """
import seqcore


@seqcore.hookimpl
def seqcore_update_end(num_updates):
    if num_updates == {at}:
        raise RuntimeError("the plug-in gave up at update " + str(num_updates))
"""


def test_a_raising_hook_stops_training_with_one_line_and_checkpoint_last_intact(data_bin, tmp_path):
    save_dir = tmp_path / "ck"
    first = train_tiny(data_bin, save_dir, "--max-epoch", "1", "--no-epoch-checkpoints")
    updates = max(r["num_updates"] for r in json_records(first) if "num_updates" in r)
    last = save_dir / "checkpoint_last.pt"
    before = last.read_bytes()
    files_before = sorted(p.name for p in save_dir.iterdir())

    hooks = write(tmp_path / "raising_hooks" / "__init__.py", RAISING.format(at=updates + 2)).parent
    result = run_cli(
        "train",
        str(data_bin),
        *TINY,
        "--save-dir",
        str(save_dir),
        "--max-epoch",
        "2",
        "--no-epoch-checkpoints",
        "--user-dir",
        str(hooks),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last_line = result.stderr.rstrip().splitlines()[-1]
    assert last_line.startswith(
        f"seqcore: error: user dir {hooks.resolve()}: hook seqcore_update_end raised "
        f"RuntimeError: the plug-in gave up at update {updates + 2} (at "
    )
    assert f"{hooks.resolve() / '__init__.py'}:" in last_line
    assert last.read_bytes() == before  # resumed, then stopped before any save: untouched
    assert sorted(p.name for p in save_dir.iterdir()) == files_before  # nothing half-written
