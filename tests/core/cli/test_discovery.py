"""Plug-in discovery as a user meets it: installed distributions, --user-dir, failures."""

import json
import os

from support import fake_distribution, run_seqcore, write

BROKEN = {"broken_plugin_mod/__init__.py": "import a_module_that_does_not_exist_xyz\n"}


def _plugins_json(*args, env=None):
    result = run_seqcore("plugins", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return {record["name"]: record for record in json.loads(result.stdout)}, result


def test_version_lists_core_and_installed_plugins():
    result = run_seqcore("--version")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("seqcore 0.1")
    assert "  seqcore-plugin-toy 0.3.1" in lines
    assert "  seqcore-plugin-transformer 0.1.0" in lines


def test_pip_installed_third_party_plugin_appears_with_components_and_hooks():
    records, _ = _plugins_json()
    toy = records["seqcore-plugin-toy"]
    assert toy["kind"] == "distribution" and toy["version"] == "0.3.1"
    assert toy["entry_points"] == ["toy = seqcore_toy"]
    [model] = toy["components"]["model"]
    assert model["name"] == "toy"
    assert sorted(model["architectures"]) == ["toy", "toy_tiny", "toy_wide"]
    assert [c["name"] for c in toy["components"]["criterion"]] == ["toy_mse"]
    assert "seqcore_train_begin" in toy["hooks"] and "seqcore_add_commands" in toy["hooks"]
    assert toy["commands"] == ["toy-hello"]
    assert toy["errors"] == []
    core = records["seqcore-toolkit"]
    assert {"cross_entropy", "label_smoothed_cross_entropy"} <= {
        c["name"] for c in core["components"]["criterion"]
    }


def test_plugin_commands_are_added_through_the_hook():
    result = run_seqcore("toy-hello", "--name", "Ada")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello Ada from seqcore-plugin-toy\n"


def test_unknown_command_is_a_one_line_error():
    result = run_seqcore("tranin")
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1
        and "seqcore: error: No such command 'tranin'" in result.stderr
    )


def test_broken_plugin_warns_once_and_everything_else_keeps_working(tmp_path):
    env = fake_distribution(
        tmp_path, "seqcore-plugin-broken", "2.0", {"broken": "broken_plugin_mod"}, BROKEN
    )
    records, result = _plugins_json(env=env)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    line = warnings[0]
    assert "seqcore-plugin-broken 2.0" in line and "'broken'" in line
    assert "ModuleNotFoundError" in line and "a_module_that_does_not_exist_xyz" in line
    assert records["seqcore-plugin-broken"]["errors"]
    assert records["seqcore-plugin-toy"]["components"]["model"]
    # selecting a component that is not there names the failed plug-in as a possible cause
    result = run_seqcore("config", "-a", "broken_arch", "--optimizer", "sgd", env=env)
    assert result.returncode == 1
    assert "unknown model architecture 'broken_arch'" in result.stderr
    assert "seqcore-plugin-broken 2.0" in result.stderr and "ModuleNotFoundError" in result.stderr


def test_strict_plugins_makes_a_broken_plugin_fatal(tmp_path):
    env = fake_distribution(
        tmp_path, "seqcore-plugin-broken", "2.0", {"broken": "broken_plugin_mod"}, BROKEN
    )
    for args, extra_env in [(["--strict-plugins"], {}), ([], {"SEQCORE_STRICT_PLUGINS": "1"})]:
        result = run_seqcore("plugins", *args, env={**env, **extra_env})
        assert result.returncode == 1
        assert result.stderr.startswith("seqcore: error: plug-in seqcore-plugin-broken 2.0")
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_disable_autoload_keeps_builtins_and_user_dirs_only(tmp_path):
    user_dir = tmp_path / "mine"
    write(
        user_dir / "__init__.py",
        "from seqcore.criterions import Criterion, register_criterion\n"
        "@register_criterion('mine_ce')\nclass Mine(Criterion):\n    pass\n",
    )
    records, _ = _plugins_json(
        "--user-dir", str(user_dir), env={"SEQCORE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    )
    assert "seqcore-plugin-toy" not in records
    assert "seqcore-toolkit" in records
    assert records[str(user_dir.resolve())]["components"]["criterion"][0]["name"] == "mine_ce"


def test_a_name_clash_between_distributions_names_both(tmp_path):
    clash = {
        "clash_mod/__init__.py": """
        from seqcore.models import BaseModel, register_model

        @register_model("toy")
        class Impostor(BaseModel):
            pass
        """
    }
    env = fake_distribution(tmp_path, "seqcore-plugin-clash", "1.5", {"clash": "clash_mod"}, clash)
    result = run_seqcore("plugins", env=env)
    assert result.returncode == 1
    err = result.stderr
    assert "model 'toy' is registered twice" in err
    assert "seqcore-plugin-toy 0.3.1" in err and "seqcore-plugin-clash 1.5" in err
    assert "Traceback" not in err


def test_user_dir_package_single_file_and_environment(tmp_path):
    pkg = tmp_path / "my-module"
    write(pkg / "__init__.py", "from . import models\n")
    write(
        pkg / "models.py",
        """
        from seqcore.models import register_model_architecture
        from seqcore_toy import toy_wide

        @register_model_architecture("toy", "my_toy")
        def my_toy(cfg):
            cfg.embed_dim = getattr(cfg, "embed_dim", 1024)
            toy_wide(cfg)
        """,
    )
    single = write(
        tmp_path / "single_file_plugin.py",
        """
        from seqcore.optim.lr_scheduler import LRScheduler, register_lr_scheduler

        @register_lr_scheduler("single_constant")
        class Constant(LRScheduler):
            pass
        """,
    )
    records, _ = _plugins_json("--user-dir", str(pkg), env={"SEQCORE_USER_DIR": str(single)})
    mine = records[str(pkg.resolve())]
    assert mine["kind"] == "user-dir"
    assert mine["architectures"] == [{"name": "my_toy", "model": "toy"}]
    assert (
        records[str(single.resolve())]["components"]["lr_scheduler"][0]["name"] == "single_constant"
    )


def test_user_dir_whose_name_is_taken_by_an_imported_module_still_loads(tmp_path):
    # "json" is imported by seqcore itself; the user's folder of that name must not clash with it
    pkg = tmp_path / "json"
    write(pkg / "__init__.py", "from .inner import X\n")
    write(
        pkg / "inner.py",
        """
        from seqcore.criterions import Criterion, register_criterion

        @register_criterion("from_json_dir")
        class X(Criterion):
            pass
        """,
    )
    records, result = _plugins_json("--user-dir", str(pkg))
    assert records[str(pkg.resolve())]["components"]["criterion"][0]["name"] == "from_json_dir"


def test_user_dir_errors_are_one_line(tmp_path):
    result = run_seqcore("plugins", "--user-dir", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"seqcore: error: --user-dir {tmp_path / 'nope'}: no such folder or .py file\n"
    )
    bad = write(tmp_path / "bad" / "__init__.py", "raise RuntimeError('boom')\n").parent
    result = run_seqcore("plugins", "--user-dir", str(bad))
    assert result.returncode == 1
    assert "RuntimeError: boom" in result.stderr and "Traceback" not in result.stderr


def test_import_seqcore_and_help_import_neither_torch_nor_plugins():
    probe = (
        "import sys, seqcore\n"
        "assert 'torch' not in sys.modules, 'import seqcore imported torch'\n"
        "from seqcore.cli.main import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0\n"
        "plugin_prefixes = ('seqcore_', 'seqcore.builtins')\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith(plugin_prefixes)]\n"
        "print('IMPORTED', bad)\n"
    )
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("SEQCORE_")},
    )
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout
