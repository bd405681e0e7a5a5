"""Loading models from checkpoints for inference: what must and must not be installed, and
data folders whose dictionaries are not the model's."""

import shutil

from core.evaluation.helpers import COPY_MODEL, train
from support import fake_distribution, run_cli, run_seqcore, write


def test_inference_does_not_need_the_training_optimizer_plugin(copy_data, tmp_path):
    # an optimizer from a user dir: needed to train, not to translate
    user_dir = tmp_path / "my_optim"
    write(
        user_dir / "__init__.py",
        """
        from seqcore.optim import register_optimizer
        from seqcore.optim.sgd import SGD, SGDConfig

        @register_optimizer("my_sgd", dataclass=SGDConfig)
        class MySGD(SGD):
            pass
        """,
    )
    args = list(COPY_MODEL)
    args[args.index("--optimizer") + 1] = "my_sgd"
    ckpt = train(
        copy_data, tmp_path / "ck", "--user-dir", str(user_dir), *args, "--max-update", "2"
    )
    result = run_cli("generate", str(copy_data), "--path", str(ckpt), "--batch-size", "8")
    assert result.returncode == 0, result.stderr
    assert "BLEU" in result.stdout


def test_a_data_folder_with_other_dictionaries_of_the_same_size_is_refused(
    copy_data, copy_model, tmp_path
):
    other = tmp_path / "data-bin"
    shutil.copytree(copy_data, other)
    for name in ("dict.src.txt", "dict.tgt.txt"):
        lines = (other / name).read_text().splitlines()
        lines[0], lines[1] = lines[1], lines[0]  # same symbols and size, other order
        (other / name).write_text("\n".join(lines) + "\n")
    result = run_cli("generate", str(other), "--path", str(copy_model), "--batch-size", "8")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: the source dictionary of {other} is not the one {copy_model} was "
        "trained with; use the data folder the model was trained on"
    )


def test_a_text_file_is_not_a_checkpoint(copy_data, tmp_path):
    bogus = write(tmp_path / "model.pt", "hello\n")
    result = run_cli("generate", str(copy_data), "--path", str(bogus))
    assert result.returncode == 1
    assert "seqcore: error:" in result.stderr and "Traceback" not in result.stderr


def test_a_model_from_a_distribution_that_is_not_loaded_says_why(copy_data, copy_model):
    for switch in [{"SEQCORE_DISABLE_PLUGIN_AUTOLOAD": "1"}, {"SEQCORE_PLUGINS": "lstm"}]:
        # a process: the switches are read when a process loads its plug-ins
        result = run_seqcore(
            "generate", str(copy_data), "--path", str(copy_model), env=switch
        )  # fmt: skip
        assert result.returncode == 1
        last = result.stderr.splitlines()[-1]
        assert last.startswith(
            f"seqcore: error: {copy_model} needs model architecture 'transformer' from "
            "seqcore-plugin-transformer 0.1.0"
        )
        assert "which is installed here (seqcore-plugin-transformer 0.1.0) but not loaded: " in last
        assert next(iter(switch)) in last


def _with_origin(checkpoint, tmp_path, arch, origin):
    """A copy of ``checkpoint`` recorded as made with architecture ``arch`` from ``origin``."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state["cfg"]["selections"]["arch"] = arch
    state["cfg"]["origins"]["model"] = origin
    copy = tmp_path / f"{arch}.pt"
    torch.save(state, copy)
    return copy


def test_a_model_from_a_missing_broken_or_other_version_of_a_distribution_is_named(
    copy_data, copy_model, tmp_path
):
    broken_env = fake_distribution(
        tmp_path / "site", "seqcore-plugin-broken", "2.0", {"broken": "broken_mod"},
        {"broken_mod/__init__.py": "raise ImportError('needs libfoo')\n"},
    )  # fmt: skip
    gone = {"kind": "distribution", "name": "seqcore-plugin-gone", "version": "3.0", "module": "g"}
    broken = {
        "kind": "distribution",
        "name": "seqcore-plugin-broken",
        "version": "2.0",
        "module": "b",
    }
    older = {
        "kind": "distribution",
        "name": "seqcore-plugin-toy",
        "version": "0.2.0",
        "module": "t",
    }
    for arch, origin, expected in [
        ("gone_arch", gone, "which is not installed here; pip install 'seqcore-plugin-gone==3.0'"),
        (
            "broken_arch",
            broken,
            "which is installed here but failed to load: plug-in seqcore-plugin-broken 2.0 "
            "(entry point 'broken' -> broken_mod) failed to load: ImportError: needs libfoo (at "
            f"{tmp_path / 'site' / 'broken_mod' / '__init__.py'}:1)",
        ),
        (
            "toy_removed",
            older,
            "but seqcore-plugin-toy 0.3.1 is installed here, which does not provide it; "
            "pip install 'seqcore-plugin-toy==0.2.0'",
        ),
    ]:
        checkpoint = _with_origin(copy_model, tmp_path, arch, origin)
        # a process: the broken distribution is on its PYTHONPATH
        result = run_seqcore("generate", str(copy_data), "--path", str(checkpoint), env=broken_env)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1] == (
            f"seqcore: error: {checkpoint} needs model architecture {arch!r} from "
            f"{origin['name']} {origin['version']} (module {origin['module']}), {expected}"
        )
