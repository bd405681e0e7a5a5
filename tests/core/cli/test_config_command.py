"""Options derived from the selected components' dataclasses: flags, help, precedence, errors."""

import tomllib
from support import run_cli, write

TOY = ["--task", "translation", "-a", "toy_wide", "--criterion", "toy_mse", "--optimizer", "sgd"]


def _config(*args):
    result = run_cli("config", *args)
    assert result.returncode == 0, result.stderr
    return tomllib.loads(result.stdout)


def test_help_shows_the_options_of_the_selected_architecture_only():
    result = run_cli("config", *TOY, "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Model options (toy, from seqcore-plugin-toy 0.3.1" in out
    assert "--embed-dim" in out and "embedding dimension  [default: 64]" in out  # the arch's value
    assert "--share-embeddings / --no-share-embeddings" in out
    assert "Criterion options (toy_mse" in out and "--toy-weight" in out
    assert "Optimizer options (sgd" in out and "--momentum" in out
    # components that are not selected contribute nothing
    assert "--label-smoothing" not in out
    assert "--encoder-embed-dim" not in out
    # the selector lists what is installed, after plug-ins are loaded
    assert "toy_tiny" in out and "lstm_wiseman_iwslt_de_en" in out


def test_shared_field_is_one_flag_feeding_each_component():
    cfg = _config(*TOY, "--max-source-positions", "77")
    assert cfg["max_source_positions"] == 77
    result = run_cli("config", *TOY, "--help")
    assert result.stdout.count("--max-source-positions") == 1
    text = " ".join(result.stdout.split())  # help is wrapped to the terminal width
    assert "[default: 1024 (task), 256 (model)] (also used by the model)" in text


def test_precedence_default_then_architecture_then_config_file_then_flags(tmp_path):
    plain = ["--task", "translation", "-a", "toy", "--criterion", "toy_mse", "--optimizer", "sgd"]
    assert _config(*plain)["embed_dim"] == 8  # dataclass default
    assert _config(*TOY)["embed_dim"] == 64  # architecture function
    assert _config(*TOY)["dropout"] == 0.3
    conf = write(tmp_path / "c.toml", "embed_dim = 128\nmomentum = 0.5\n")
    from_file = _config(*TOY, "--config", str(conf))
    assert from_file["embed_dim"] == 128 and from_file["momentum"] == 0.5
    assert from_file["dropout"] == 0.3  # the architecture still fills what the file leaves
    flags = _config(*TOY, "--config", str(conf), "--embed-dim", "256")
    assert flags["embed_dim"] == 256 and flags["momentum"] == 0.5


def test_selectors_can_come_from_the_config_file_and_flags_override_them(tmp_path):
    conf = write(
        tmp_path / "c.toml", 'arch = "toy_tiny"\ncriterion = "toy_mse"\noptimizer = "sgd"\n'
    )
    cfg = _config("--config", str(conf))
    assert cfg["arch"] == "toy_tiny" and cfg["embed_dim"] == 4
    assert _config("--config", str(conf), "-a", "toy_wide")["embed_dim"] == 64


def test_config_output_reads_back_to_the_same_configuration(tmp_path):
    first = run_cli(
        "config", *TOY, "--embed-dim", "12", "--lr", "0.1,0.05", "--no-share-embeddings"
    )
    assert first.returncode == 0, first.stderr
    saved = write(tmp_path / "saved.toml", first.stdout)
    again = run_cli("config", "--config", str(saved))
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    cfg = tomllib.loads(first.stdout)
    assert cfg["lr"] == [0.1, 0.05] and cfg["share_embeddings"] is False


def test_tuple_and_list_flags_parse_like_fairseq():
    cfg = _config(*TOY[:-1], "adam", "--adam-betas", "(0.9, 0.98)", "--lr", "5e-4")
    assert cfg["adam_betas"] == [0.9, 0.98]
    assert cfg["lr"] == [5e-4]


def test_bad_flag_values_are_one_line_errors_naming_the_flag():
    result = run_cli("config", *TOY, "--embed-dim", "wide")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "'--embed-dim'" in result.stderr and "expected an integer, got 'wide'" in result.stderr
    result = run_cli("config", *TOY, "--dropout", "1.5")
    assert result.returncode == 1
    assert result.stderr == "seqcore: error: --dropout 1.5 must be in [0, 1)\n"


def test_unknown_flag_suggests_the_closest():
    result = run_cli("config", *TOY, "--embed-dimm", "3")
    assert result.returncode == 2
    assert "No such option '--embed-dimm'" in result.stderr and "--embed-dim" in result.stderr


def test_unknown_architecture_suggests_the_closest():
    result = run_cli("config", "-a", "toy_tinny", "--optimizer", "sgd")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "seqcore: error: unknown model architecture 'toy_tinny' (--arch); did you mean 'toy_tiny'?"
    )
    # also when only asking for help
    assert run_cli("config", "-a", "toy_tinny", "--help").returncode == 1


def test_config_file_errors_name_the_file(tmp_path):
    bad_key = write(tmp_path / "k.toml", "embed_dimm = 3\n")
    result = run_cli("config", *TOY, "--config", str(bad_key))
    assert result.returncode == 1
    assert result.stderr == (
        f"seqcore: error: {bad_key}: unknown key 'embed_dimm' for the selected components; "
        "did you mean 'embed_dim'?\n"
    )
    bad_value = write(tmp_path / "v.toml", 'embed_dim = "big"\n')
    result = run_cli("config", *TOY, "--config", str(bad_value))
    assert f"{bad_value}: embed_dim: expected an integer, got 'big'" in result.stderr
    broken = write(tmp_path / "b.toml", "embed_dim = = 3\n")
    result = run_cli("config", *TOY, "--config", str(broken))
    assert result.returncode == 1 and f"{broken}: not valid TOML" in result.stderr
    result = run_cli("config", *TOY, "--config", str(tmp_path / "missing.toml"))
    assert "missing.toml: no such file" in result.stderr


def test_field_type_clash_between_components_names_both(tmp_path):
    user_dir = tmp_path / "clashing"
    write(
        user_dir / "__init__.py",
        """
        from dataclasses import dataclass
        from seqcore.tasks import Task, register_task

        @dataclass
        class ClashConfig:
            embed_dim: str = "large"

        @register_task("clash_task", dataclass=ClashConfig)
        class ClashTask(Task):
            pass
        """,
    )
    result = run_cli("config", "--user-dir", str(user_dir), *TOY[2:], "--task", "clash_task")
    assert result.returncode == 1
    err = result.stderr
    assert "option --embed-dim is declared as str by task 'clash_task'" in err
    assert "as int by model 'toy' (seqcore-plugin-toy 0.3.1" in err


def test_fairseq_overview_user_dir_architecture_on_top_of_another(tmp_path):
    user_dir = tmp_path / "my-module"
    write(
        user_dir / "__init__.py",
        """
        from seqcore.models import register_model_architecture
        from seqcore_toy import toy_wide

        @register_model_architecture("toy", "my_toy")
        def my_toy(cfg):
            cfg.embed_dim = getattr(cfg, "embed_dim", 1024)
            toy_wide(cfg)
        """,
    )
    base = [
        "--user-dir",
        str(user_dir),
        "-a",
        "my_toy",
        "--criterion",
        "toy_mse",
        "--optimizer",
        "sgd",
    ]
    cfg = _config(*base)
    assert cfg["arch"] == "my_toy" and cfg["embed_dim"] == 1024 and cfg["dropout"] == 0.3
    assert _config(*base, "--embed-dim", "16")["embed_dim"] == 16


def test_an_option_given_alone_takes_its_fairseq_constant():
    """fairseq's optional-value flags: `--eval-bleu-remove-bpe` alone is "@@ " (and
    `seqcore generate --remove-bpe` alone is subword_nmt); the flag does not swallow the next
    option as its value."""
    alone = _config(*TOY, "--eval-bleu", "--eval-bleu-remove-bpe", "--lr", "0.5")
    assert alone["eval_bleu_remove_bpe"] == "@@ " and alone["lr"] == [0.5]
    last = _config(*TOY, "--eval-bleu", "--eval-bleu-remove-bpe")
    assert last["eval_bleu_remove_bpe"] == "@@ "
    named = _config(*TOY, "--eval-bleu", "--eval-bleu-remove-bpe", "sentencepiece")
    assert named["eval_bleu_remove_bpe"] == "sentencepiece"
    unset = _config(*TOY)
    assert unset.get("eval_bleu_remove_bpe") is None
    result = run_cli("config", *TOY, "--help")
    assert "[alone: '@@ ']" in " ".join(result.stdout.split())


def test_negative_numbers_are_values():
    """A negative number after a flag is its value, not an unknown option (fairseq's -1
    settings: `--patience -1`, `--keep-last-epochs -1`, `--stop-min-lr -1`, tested with train)."""
    cfg = _config(*TOY, "--lr-scheduler", "fixed", "--force-anneal", "-2", "--embed-dim", "-4")
    assert (cfg["force_anneal"], cfg["embed_dim"]) == (-2, -4)
    result = run_cli("config", *TOY, "--momentum", "-0.5")
    assert result.stderr == "seqcore: error: --momentum -0.5 must not be negative\n"


def test_a_negative_switch_turns_off_without_a_double_negative():
    """fairseq's `--no-save`-style switches: the opposite flag is `--save`, not `--no-no-save`."""
    result = run_cli("train", "-a", "transformer", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "--no-save / --save" in text
    assert "--no-scale-embedding / --scale-embedding" in text
    assert "--no-no-" not in text
    arch = ["--task", "translation", "-a", "transformer"]
    assert _config(*arch, "--no-scale-embedding")["no_scale_embedding"] is True
    off = _config(*arch, "--no-scale-embedding", "--scale-embedding")
    assert off["no_scale_embedding"] is False
