"""Loading models from checkpoints for inference: what must and must not be installed, and
data folders whose dictionaries are not the model's."""

import shutil

from core.evaluation.helpers import COPY_MODEL, train
from support import run_seqcore, write


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
    result = run_seqcore("generate", str(copy_data), "--path", str(ckpt), "--batch-size", "8")
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
    result = run_seqcore("generate", str(other), "--path", str(copy_model), "--batch-size", "8")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: the source dictionary of {other} is not the one {copy_model} was "
        "trained with; use the data folder the model was trained on"
    )


def test_a_text_file_is_not_a_checkpoint(copy_data, tmp_path):
    bogus = write(tmp_path / "model.pt", "hello\n")
    result = run_seqcore("generate", str(copy_data), "--path", str(bogus))
    assert result.returncode == 1
    assert "seqcore: error:" in result.stderr and "Traceback" not in result.stderr


def test_a_model_from_a_distribution_that_is_not_installed_is_named(copy_data, copy_model):
    # SEQCORE_DISABLE_PLUGIN_AUTOLOAD hides every installed plug-in, as if uninstalled
    result = run_seqcore(
        "generate", str(copy_data), "--path", str(copy_model),
        env={"SEQCORE_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith(
        f"seqcore: error: {copy_model} needs model architecture 'transformer' from "
        "seqcore-plugin-transformer 0.1.0"
    )
    assert last.endswith("which is not installed here; pip install seqcore-plugin-transformer")
