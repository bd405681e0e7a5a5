"""Plug-in discovery as a user meets it: installed distributions, --user-dir, failures.

Most run as processes: what a process finds when it starts (PYTHONPATH, the plug-in switches)
is what is tested; runs that depend on neither are in-process (run_cli)."""

import json
import os

from support import fake_distribution, run_cli, run_seqcore, write

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
    result = run_cli("toy-hello", "--name", "Ada")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello Ada from seqcore-plugin-toy\n"


def test_unknown_command_is_a_one_line_error():
    result = run_cli("tranin")
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
    # where it was raised in the plug-in's own code, and no traceback without --debug
    assert f"(at {tmp_path / 'broken_plugin_mod' / '__init__.py'}:1)" in line
    assert "--debug shows the traceback" in line and "Traceback" not in result.stderr
    assert records["seqcore-plugin-broken"]["errors"]
    assert records["seqcore-plugin-broken"]["state"] == "failed"
    assert records["seqcore-plugin-toy"]["state"] == "loaded"
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
    assert records["seqcore-plugin-toy"]["state"] == "disabled"  # listed, not loaded
    assert records["seqcore-plugin-toy"]["components"]["model"] == []
    assert "seqcore-toolkit" in records
    assert records[str(user_dir.resolve())]["components"]["criterion"][0]["name"] == "mine_ce"


def test_debug_prints_the_traceback_of_plugin_failures_and_errors(tmp_path):
    env = fake_distribution(
        tmp_path, "seqcore-plugin-broken", "2.0", {"broken": "broken_plugin_mod"}, BROKEN
    )
    for args, extra_env in [(["--debug"], {}), ([], {"SEQCORE_DEBUG": "1"})]:
        result = run_seqcore(*args, "config", "-a", "nope_arch", env={**env, **extra_env})
        assert result.returncode == 1
        err = result.stderr
        assert err.count("Traceback (most recent call last)") >= 2  # the plug-in's, the error's
        assert 'broken_plugin_mod/__init__.py", line 1' in err
        assert (
            err.rstrip()
            .splitlines()[-1]
            .startswith("seqcore: error: unknown model architecture 'nope_arch'")
        )


def test_an_entry_point_naming_a_missing_module_is_one_warning(tmp_path):
    env = fake_distribution(tmp_path, "seqcore-plugin-ghost", "1.0", {"ghost": "ghost_mod_xyz"}, {})
    records, result = _plugins_json(env=env)
    [line] = [ln for ln in result.stderr.splitlines() if "warning" in ln]
    assert "plug-in seqcore-plugin-ghost 1.0 (entry point 'ghost' -> ghost_mod_xyz)" in line
    assert "ModuleNotFoundError: No module named 'ghost_mod_xyz'" in line
    assert records["seqcore-plugin-ghost"]["state"] == "failed"


HOOKY = {
    "hooky_mod/__init__.py": """
    import seqcore
    from seqcore.criterions import Criterion, register_criterion

    @register_criterion("hooky_ce")
    class HookyCE(Criterion):
        pass

    @seqcore.hookimpl
    def seqcore_validation_ends(trainer):
        pass

    @seqcore.hookimpl
    def seqcore_update_end(trainer, num_update):
        pass
    """
}


def test_misspelled_hooks_and_wrong_arguments_fail_that_plugin_only(tmp_path):
    env = fake_distribution(tmp_path, "seqcore-plugin-hooky", "1.0", {"hooky": "hooky_mod"}, HOOKY)
    records, result = _plugins_json(env=env)
    [line] = [ln for ln in result.stderr.splitlines() if "warning" in ln]
    assert line.startswith(
        "seqcore: warning: plug-in seqcore-plugin-hooky 1.0 (entry point 'hooky' -> hooky_mod) "
        "failed to load: "
    )
    assert "hook seqcore_update_end (" in line
    assert "asks for 'num_update', which it is not given; its arguments are: " in line
    assert "trainer, num_updates, log" in line
    assert "seqcore_validation_ends (" in line and "did you mean seqcore_validation_end?" in line
    hooky = records["seqcore-plugin-hooky"]
    assert hooky["state"] == "failed" and hooky["hooks"] == []
    assert all(items == [] for items in hooky["components"].values())  # hooky_ce is gone
    assert records["seqcore-plugin-toy"]["state"] == "loaded"
    result = run_seqcore("train", "-a", "lstm", "--help", env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    result = run_seqcore("plugins", "--strict-plugins", env=env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("seqcore: error: plug-in seqcore-plugin-hooky 1.0")


CLASH = {
    "clash_mod/__init__.py": """
    import click
    import seqcore
    from seqcore.models import BaseModel, register_model

    @register_model("toy")
    class Impostor(BaseModel):
        pass

    @click.command("toy-hello")
    def hello():
        print("impostor")

    @seqcore.hookimpl
    def seqcore_add_commands(cli):
        cli.add_command(hello)
    """
}


def test_a_name_clash_between_distributions_stays_local(tmp_path):
    env = fake_distribution(tmp_path, "seqcore-plugin-clash", "1.5", {"clash": "clash_mod"}, CLASH)
    records, result = _plugins_json(env=env)
    [impostor] = records["seqcore-plugin-clash"]["components"]["model"]
    assert impostor["clash"] == ["seqcore-plugin-toy 0.3.1 (module seqcore_toy.model)"]
    [toy] = records["seqcore-plugin-toy"]["components"]["model"]
    assert toy["clash"] == ["seqcore-plugin-clash 1.5 (module clash_mod)"]
    for name in ("seqcore-plugin-toy", "seqcore-plugin-clash"):
        [message] = records[name]["command_clashes"]
        assert "command 'toy-hello' is added by" in message
    text = run_seqcore("plugins", env=env)
    assert text.returncode == 0 and "[clash: also seqcore-plugin-toy 0.3.1" in text.stdout
    # unrelated work goes on
    result = run_seqcore("train", "-a", "lstm", "--help", env=env)
    assert result.returncode == 0, result.stderr
    # selecting the name is the one-line error naming both, with the way out
    result = run_seqcore("config", "-a", "toy_tiny", "--optimizer", "sgd", env=env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    err = result.stderr
    assert err.startswith("seqcore: error: model 'toy' is registered by ")
    assert "seqcore-plugin-toy 0.3.1" in err and "seqcore-plugin-clash 1.5" in err
    assert "--disable-plugin" in err and "Traceback" not in err
    # the clashing command fails alone, naming both plug-ins
    result = run_seqcore("toy-hello", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "command 'toy-hello' is added by plug-in seqcore-plugin-" in result.stderr
    # disabling one of them resolves both clashes
    result = run_seqcore("--disable-plugin", "clash", "toy-hello", "--name", "Ada", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello Ada from seqcore-plugin-toy\n"


def test_choosing_plugins_by_distribution_or_entry_point_name(tmp_path):
    records, _ = _plugins_json(env={"SEQCORE_PLUGINS": "toy,seqcore-plugin-lstm"})
    states = {name: record["state"] for name, record in records.items()}
    assert states["seqcore-plugin-toy"] == states["seqcore-plugin-lstm"] == "loaded"
    assert states["seqcore-plugin-transformer"] == states["seqcore-plugin-adam"] == "disabled"
    assert states["seqcore-toolkit"] == "loaded"  # the core's built-ins always
    assert records["seqcore-plugin-transformer"]["components"]["model"] == []
    result = run_seqcore("--disable-plugin", "seqcore-plugin-toy", "plugins")
    assert result.returncode == 0
    assert "seqcore-plugin-toy 0.3.1 (disabled)" in result.stdout.splitlines()
    result = run_seqcore("toy-hello", env={"SEQCORE_DISABLE_PLUGINS": "toy"})
    assert result.returncode == 2 and "No such command 'toy-hello'" in result.stderr
    result = run_seqcore("--disable-plugin", "transformer", "config", "-a", "transformer")
    assert result.returncode == 1 and "unknown model architecture 'transformer'" in result.stderr
    assert result.stderr.rstrip().endswith(
        "note: not loaded (--disable-plugin / SEQCORE_DISABLE_PLUGINS): seqcore-plugin-transformer"
    )


def test_unknown_plugin_names_are_one_line_with_did_you_mean():
    for args, env, source in [
        (["--disable-plugin", "transfomer"], {}, "--disable-plugin / SEQCORE_DISABLE_PLUGINS"),
        (
            [],
            {"SEQCORE_DISABLE_PLUGINS": "transfomer"},
            "--disable-plugin / SEQCORE_DISABLE_PLUGINS",
        ),
        ([], {"SEQCORE_PLUGINS": "lstm,transfomer"}, "SEQCORE_PLUGINS"),
    ]:
        result = run_seqcore(*args, "plugins", env=env)
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert result.stderr.startswith(
            f"seqcore: error: {source}: no plug-in is called 'transfomer'; "
            "did you mean 'transformer'?"
        )


def test_plugins_and_components_are_listed_by_name():
    records = json.loads(run_seqcore("plugins", "--json").stdout)
    names = [r["name"] for r in records]
    assert names == sorted(names)
    for record in records:
        for items in record["components"].values():
            assert [i["name"] for i in items] == sorted(i["name"] for i in items)


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
    result = run_cli("plugins", "--user-dir", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"seqcore: error: --user-dir {tmp_path / 'nope'}: no such folder or .py file\n"
    )
    bad = write(tmp_path / "bad" / "__init__.py", "raise RuntimeError('boom')\n").parent
    result = run_cli("plugins", "--user-dir", str(bad))
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


def test_a_plugin_whose_add_commands_hook_raises_loses_only_its_commands(tmp_path):
    source = """
    import seqcore

    @seqcore.hookimpl
    def seqcore_add_commands(cli):
        raise KeyError("no such table")
    """
    env = fake_distribution(
        tmp_path, "seqcore-plugin-cmdfail", "1.0", {"cmdfail": "cmdfail_mod"},
        {"cmdfail_mod/__init__.py": source},
    )  # fmt: skip
    result = run_seqcore("toy-hello", "--name", "Ada", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello Ada from seqcore-plugin-toy\n"
    [line] = [ln for ln in result.stderr.splitlines() if "warning" in ln]
    assert line.startswith(
        "seqcore: warning: plug-in seqcore-plugin-cmdfail 1.0: hook seqcore_add_commands raised "
        "KeyError: 'no such table' (at "
    )
    assert f"{tmp_path / 'cmdfail_mod' / '__init__.py'}:5)" in line
