"""seqcore.loader in-process: discovering and loading plug-ins (entry points, --user-dir, the
switches that disable them, strict mode) and why a checkpoint's component is not available."""

import importlib
import json
import logging
import os
import sys
import types
import uuid

import importlib_metadata
import pluggy
import pytest

from seqcore import hookspecs, loader, registry
from seqcore.errors import ConfigError, PluginLoadError, RegistrationError, UnknownComponentError
from seqcore.markers import PROJECT_NAME
from seqcore.origin import Origin


@pytest.fixture
def fresh_loader(monkeypatch):
    """A loader state of its own, with plug-ins recorded as a test sets them."""
    state = loader._State(pluggy.PluginManager(PROJECT_NAME))
    monkeypatch.setattr(loader, "_state", state)
    return state


def _record(state, key, kind="distribution", version=None, **fields):
    plugin = loader.Plugin(key, kind, version, **fields)
    state.plugins[key] = plugin
    return plugin


def test_a_distribution_that_is_not_installed_gets_the_pinned_pip_command(fresh_loader):
    why = loader.why_unavailable(Origin("distribution", "seqcore-plugin-gone-xyz", "3.1.4"))
    assert why == "which is not installed here; pip install 'seqcore-plugin-gone-xyz==3.1.4'"


def test_a_checkpoint_from_before_the_core_was_renamed_never_points_to_pypi_s_seqcore(
    fresh_loader,
):
    why = loader.why_unavailable(Origin("distribution", "seqcore", "0.0.1"))
    assert "seqcore-toolkit" in why and "'seqcore==" not in why


def test_an_installed_distribution_that_failed_to_load_gives_its_error(fresh_loader):
    error = "plug-in seqcore-plugin-toy 0.3.1 (entry point 'toy' -> seqcore_toy) failed to load: X"
    _record(fresh_loader, "seqcore-plugin-toy", version="0.3.1", errors=[error])
    why = loader.why_unavailable(Origin("distribution", "seqcore-plugin-toy", "0.3.1"))
    assert why == f"which is installed here but failed to load: {error}"


def test_an_installed_distribution_that_is_disabled_says_by_what(fresh_loader):
    _record(fresh_loader, "seqcore-plugin-toy", "distribution", "0.3.1", disabled_by="it is off")
    why = loader.why_unavailable(Origin("distribution", "seqcore-plugin-toy", "0.3.1"))
    assert why == "which is installed here (seqcore-plugin-toy 0.3.1) but not loaded: it is off"


def test_another_installed_version_names_both_versions(fresh_loader):
    _record(fresh_loader, "seqcore-plugin-toy", version="0.3.1", modules=[object()])
    why = loader.why_unavailable(Origin("distribution", "seqcore-plugin-toy", "0.2.0"))
    assert why == (
        "but seqcore-plugin-toy 0.3.1 is installed here, which does not provide it; "
        "pip install 'seqcore-plugin-toy==0.2.0'"
    )
    same = loader.why_unavailable(Origin("distribution", "seqcore-plugin-toy", "0.3.1"))
    assert same == "which is installed here (seqcore-plugin-toy 0.3.1) but does not provide it"


def test_user_dir_origins(fresh_loader, tmp_path):
    gone = tmp_path / "gone"
    assert loader.why_unavailable(Origin("user-dir", str(gone))) == (
        f"which is missing here (no such folder or .py file: {gone})"
    )
    there = tmp_path / "there"
    there.mkdir()
    assert loader.why_unavailable(Origin("user-dir", str(there))) == (
        f"which is not installed here; pass --user-dir {there}"
    )
    _record(fresh_loader, str(there), "user-dir", modules=[object()])
    assert loader.why_unavailable(Origin("user-dir", str(there))) == "which no longer defines it"
    fresh_loader.plugins[str(there)].errors.append("--user-dir there: importing it failed: E")
    assert loader.why_unavailable(Origin("user-dir", str(there))) == (
        "which failed to load here: --user-dir there: importing it failed: E"
    )


# -- discovering and loading installed plug-ins (entry points faked in-process) ----------------
CRITERION_PLUGIN = """\
from seqcore import hookimpl
from seqcore.criterions import Criterion, register_criterion


@register_criterion("{name}")
class Fake(Criterion):
    def forward(self, model, sample, reduce=True):
        raise NotImplementedError


@hookimpl
def seqcore_train_begin(trainer):
    pass
"""


class FakeEntryPoint:
    """What importlib-metadata yields for an ``[project.entry-points.seqcore]`` line."""

    def __init__(self, name: str, value: str, dist: str, version: str = "1.0") -> None:
        self.name, self.value = name, value
        self.module = value.partition(":")[0]
        self.dist = types.SimpleNamespace(name=dist, version=version)

    def load(self):
        return importlib.import_module(self.module)


@pytest.fixture
def plugin_site(tmp_path, monkeypatch):
    """Fake installed plug-ins: ``add(dist, source)`` writes a module into a folder on sys.path
    and advertises it as an entry point; ``load()`` runs the loader over them with a fresh
    pluggy manager. Registries, environment and sys.modules are restored afterwards."""
    for variable in (loader.ENV_ONLY, loader.ENV_DISABLE, loader.ENV_NO_AUTOLOAD,
                     loader.ENV_STRICT, loader.ENV_USER_DIR, loader.ENV_DEBUG):  # fmt: skip
        monkeypatch.delenv(variable, raising=False)
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    state = loader._State(manager)
    monkeypatch.setattr(loader, "_state", state)
    monkeypatch.setattr(registry, "_unknown_name_notes", [loader._failed_plugins_note])
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    eps: list[FakeEntryPoint] = []
    monkeypatch.setattr(importlib_metadata, "entry_points", lambda group: list(eps))
    saved = [r._state() for r in registry.ALL]
    modules: list[str] = []
    tag = uuid.uuid4().hex[:8]

    def add(dist, source, ep_name=None, name=None):
        module = f"fake_{(name or dist).replace('-', '_')}_{tag}"
        (site / f"{module}.py").write_text(source, encoding="utf-8")
        modules.append(module)
        eps.append(FakeEntryPoint(ep_name or dist.rpartition("-")[2], module, dist))
        return module

    def load(strict=None):
        return loader.load_plugins(strict=strict)

    yield types.SimpleNamespace(add=add, load=load, state=state, site=site, tag=tag)
    for reg, snapshot in zip(registry.ALL, saved):
        reg._restore(snapshot)
    for module in modules:
        sys.modules.pop(module, None)


def test_entry_points_are_imported_registered_with_pluggy_and_attributed(plugin_site):
    name = f"fake_ce_{plugin_site.tag}"
    module = plugin_site.add("seqcore-plugin-fake", CRITERION_PLUGIN.format(name=name))
    manager = plugin_site.load()
    (plugin,) = loader.plugins()
    assert (plugin.key, plugin.kind, plugin.version, plugin.state) == (
        "seqcore-plugin-fake", "distribution", "1.0", "loaded")  # fmt: skip
    assert plugin.entry_points == [f"fake = {module}"]
    assert loader.hooks_of(plugin) == ["seqcore_train_begin"]
    assert manager.get_plugin("seqcore-plugin-fake:fake") is sys.modules[module]
    entry = registry.CRITERIONS.get(name)
    assert entry.origin == Origin("distribution", "seqcore-plugin-fake", "1.0", module)
    assert plugin_site.load() is manager and len(loader.plugins()) == 1  # loads once


def test_a_plugin_whose_import_raises_is_one_warning_naming_its_file_and_line(plugin_site, caplog):
    name = f"fake_half_{plugin_site.tag}"
    source = CRITERION_PLUGIN.format(name=name) + "\nraise RuntimeError('no GPU driver')\n"
    raising_line = source.count("\n")
    broken = plugin_site.add("seqcore-plugin-broken", source)
    plugin_site.add("seqcore-plugin-fine", CRITERION_PLUGIN.format(name=name + "_ok"))
    with caplog.at_level(logging.WARNING, logger="seqcore.plugins"):
        plugin_site.load()
    where = f"{plugin_site.site / broken}.py:{raising_line}"
    expected = (
        f"plug-in seqcore-plugin-broken 1.0 (entry point 'broken' -> {broken}) failed to load: "
        f"RuntimeError: no GPU driver (at {where})"
    )
    assert [r.getMessage() for r in caplog.records] == [
        f"{expected} (use --strict-plugins to make this fatal; --debug shows the traceback)"
    ]
    states = {p.key: p.state for p in loader.plugins()}
    assert states == {"seqcore-plugin-broken": "failed", "seqcore-plugin-fine": "loaded"}
    assert name not in registry.CRITERIONS  # what it registered before raising is undone
    assert name + "_ok" in registry.CRITERIONS
    with pytest.raises(UnknownComponentError) as unknown:
        registry.CRITERIONS.get(name)
    assert f"; note: {expected}" in str(unknown.value)  # the unknown name points at the failure


def test_strict_mode_makes_a_load_failure_an_error(plugin_site, monkeypatch):
    broken = plugin_site.add("seqcore-plugin-broken", "import no_such_module_xyz\n")
    with pytest.raises(PluginLoadError) as caught:
        plugin_site.load(strict=True)
    assert str(caught.value).startswith(
        f"plug-in seqcore-plugin-broken 1.0 (entry point 'broken' -> {broken}) failed to load: "
        "ModuleNotFoundError: No module named 'no_such_module_xyz' (at "
    )


def test_strict_mode_is_read_from_the_environment(plugin_site, monkeypatch):
    plugin_site.add("seqcore-plugin-broken", "1 / 0\n")
    monkeypatch.setenv(loader.ENV_STRICT, "1")
    with pytest.raises(PluginLoadError, match="ZeroDivisionError"):
        plugin_site.load()


def test_misnamed_hooks_fail_the_plugin_without_importing_its_components(plugin_site, caplog):
    name = f"fake_hooks_{plugin_site.tag}"
    source = CRITERION_PLUGIN.format(name=name).replace("seqcore_train_begin", "seqcore_train_begn")
    plugin_site.add("seqcore-plugin-typo", source)
    with caplog.at_level(logging.WARNING, logger="seqcore.plugins"):
        plugin_site.load()
    (message,) = [r.getMessage() for r in caplog.records]
    assert "seqcore_train_begn" in message and "did you mean seqcore_train_begin?" in message
    assert "--debug" not in message  # a hook mismatch has no traceback worth showing
    assert name not in registry.CRITERIONS


@pytest.mark.parametrize(
    "variable, value, why",
    [
        (loader.ENV_DISABLE, "seqcore-plugin-off", "--disable-plugin / SEQCORE_DISABLE_PLUGINS"),
        (loader.ENV_DISABLE, "off", "--disable-plugin / SEQCORE_DISABLE_PLUGINS"),  # entry point
        (loader.ENV_ONLY, "seqcore-plugin-on", "it is not in SEQCORE_PLUGINS"),
    ],
)
def test_disabled_plugins_are_not_imported_and_say_why(plugin_site, monkeypatch, variable, value,
                                                       why):  # fmt: skip
    off = plugin_site.add("seqcore-plugin-off", "raise RuntimeError('imported')\n")
    plugin_site.add("seqcore-plugin-on", "")
    monkeypatch.setenv(variable, value)
    plugin_site.load(strict=True)
    states = {p.key: (p.state, p.disabled_by) for p in loader.plugins()}
    assert states == {
        "seqcore-plugin-off": ("disabled", why),
        "seqcore-plugin-on": ("loaded", None),
    }
    assert off not in sys.modules


def test_disable_plugins_records_the_names_for_worker_processes(monkeypatch):
    monkeypatch.setenv(loader.ENV_DISABLE, "a")
    loader.disable_plugins(["b", "a"])
    assert os.environ[loader.ENV_DISABLE] == "a,b"


def test_the_core_loads_first_so_a_plugin_importing_its_components_is_not_their_origin(
    plugin_site,
):
    # "seqcore-plugin-aaa" sorts before the core; its module imports a core component's module
    # (as a task specialising ``translation`` does), which must still be the core's
    name = f"fake_core_ce_{plugin_site.tag}"
    core = plugin_site.add(loader.CORE_DISTRIBUTION, CRITERION_PLUGIN.format(name=name),
                           ep_name="builtins")  # fmt: skip
    plugin_site.add("seqcore-plugin-aaa", f"import {core}\n")
    plugin_site.load(strict=True)
    assert registry.CRITERIONS.get(name).origin.name == loader.CORE_DISTRIBUTION
    assert [p.key for p in loader.plugins()][0] == loader.CORE_DISTRIBUTION


def test_autoload_off_keeps_only_the_core(plugin_site, monkeypatch):
    plugin_site.add("seqcore-plugin-other", "raise RuntimeError('imported')\n")
    core = plugin_site.add(loader.CORE_DISTRIBUTION, "", ep_name="builtins")
    monkeypatch.setenv(loader.ENV_NO_AUTOLOAD, "1")
    plugin_site.load(strict=True)
    states = {p.key: p.disabled_by for p in loader.plugins()}
    assert states == {
        "seqcore-plugin-other": "SEQCORE_DISABLE_PLUGIN_AUTOLOAD is set",
        loader.CORE_DISTRIBUTION: None,
    }
    assert core in sys.modules


def test_an_unknown_plugin_name_is_an_error_with_did_you_mean(plugin_site, monkeypatch):
    plugin_site.add("seqcore-plugin-transformer", "")
    monkeypatch.setenv(loader.ENV_DISABLE, "seqcore-plugin-transfromer")
    with pytest.raises(ConfigError) as caught:
        plugin_site.load()
    assert str(caught.value) == (
        "--disable-plugin / SEQCORE_DISABLE_PLUGINS: no plug-in is called "
        "'seqcore-plugin-transfromer'; did you mean 'seqcore-plugin-transformer'? (installed "
        "plug-ins and entry points: seqcore-plugin-transformer, transformer)"
    )
    monkeypatch.setenv(loader.ENV_DISABLE, "seqcore-toolkit")
    plugin_site.state.entry_points_loaded = False  # as in a new process
    with pytest.raises(ConfigError, match="'seqcore-toolkit' is the core; its built-ins are"):
        plugin_site.load()


def test_a_name_two_plugins_register_is_an_error_naming_both_until_one_is_disabled(
    plugin_site, monkeypatch
):
    name = f"fake_clash_{plugin_site.tag}"
    first = plugin_site.add("seqcore-plugin-a", CRITERION_PLUGIN.format(name=name))
    second = plugin_site.add("seqcore-plugin-b", CRITERION_PLUGIN.format(name=name))
    plugin_site.load(strict=True)
    assert {p.state for p in loader.plugins()} == {"loaded"}  # the clash stays local
    with pytest.raises(RegistrationError) as caught:
        registry.CRITERIONS.get(name)
    assert str(caught.value) == (
        f"criterion {name!r} (--criterion) is registered by seqcore-plugin-a 1.0 (module "
        f"{first}) and by seqcore-plugin-b 1.0 (module {second}); disable one of them (seqcore "
        "--disable-plugin NAME, or SEQCORE_DISABLE_PLUGINS=NAME), uninstall it or rename the "
        "component"
    )


def test_discovered_distributions_reads_metadata_only(plugin_site):
    module = plugin_site.add("seqcore-plugin-z", "raise RuntimeError('imported')\n")
    plugin_site.add(loader.CORE_DISTRIBUTION, "", ep_name="builtins")
    assert loader.discovered_distributions() == [("seqcore-plugin-z", "1.0")]
    assert module not in sys.modules


# -- --user-dir ----------------------------------------------------------------------------------
def test_user_dir_import_error_names_the_file_and_line(plugin_site, tmp_path):
    folder = tmp_path / f"mine_{plugin_site.tag}"
    folder.mkdir()
    (folder / "__init__.py").write_text("from . import models\n")
    (folder / "models.py").write_text("x = 1\ny = undefined_name\n")
    with pytest.raises(PluginLoadError) as caught:
        loader.load_user_dir(folder)
    assert str(caught.value) == (
        f"--user-dir {folder}: importing it failed: NameError: name 'undefined_name' is not "
        f"defined (at {folder / 'models.py'}:2)"
    )
    assert folder.name not in sys.modules  # a later run may import it again
    assert loader.plugins()[0].errors == [str(caught.value)]


def test_user_dir_syntax_error_names_the_file_and_line(plugin_site, tmp_path):
    single = tmp_path / f"single_{plugin_site.tag}.py"
    single.write_text("def f(:\n")
    with pytest.raises(PluginLoadError, match=rf"SyntaxError: .* \(at {single}:1\)$"):
        loader.load_user_dir(single)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.mkdir(), "the folder has no __init__.py"),
        (lambda p: None, "no such folder or .py file"),
        (lambda p: p.write_text("x"), "no such folder or .py file"),  # neither folder nor .py
    ],
)
def test_user_dir_that_is_no_package_is_one_line(plugin_site, tmp_path, make, reason):
    path = tmp_path / "plugdir"
    make(path)
    with pytest.raises(PluginLoadError) as caught:
        loader.load_user_dir(path)
    assert str(caught.value) == f"--user-dir {path}: {reason}"


def test_user_dir_loads_once_registers_and_is_passed_on_to_workers(plugin_site, tmp_path):
    name = f"fake_user_{plugin_site.tag}"
    single = tmp_path / f"single_{plugin_site.tag}.py"
    single.write_text(CRITERION_PLUGIN.format(name=name))
    module = loader.load_user_dir(single)
    try:
        assert loader.load_user_dir(single) is module
        assert os.environ[loader.ENV_USER_DIR] == str(single.resolve())
        entry = registry.CRITERIONS.get(name)
        assert entry.origin == Origin("user-dir", str(single.resolve()), None, module.__name__)
        (plugin,) = loader.plugins()
        assert (plugin.kind, plugin.state, loader.hooks_of(plugin)) == (
            "user-dir", "loaded", ["seqcore_train_begin"])  # fmt: skip
    finally:
        sys.modules.pop(module.__name__, None)


def test_user_dir_named_like_an_imported_module_gets_a_private_name(plugin_site, tmp_path):
    folder = tmp_path / "json"  # the name of a module imported already
    folder.mkdir()
    (folder / "__init__.py").write_text("VALUE = 42\n")
    module = loader.load_user_dir(folder)
    try:
        assert module.VALUE == 42 and module.__name__.startswith("_seqcore_user_dir_json_")
        assert sys.modules["json"] is json
    finally:
        sys.modules.pop(module.__name__, None)


def test_user_dirs_from_the_environment_are_loaded_with_the_plugins(plugin_site, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    single = tmp_path / f"envdir_{plugin_site.tag}.py"
    single.write_text("LOADED = True\n")
    monkeypatch.setenv(loader.ENV_USER_DIR, str(single))
    plugin_site.load()
    try:
        assert [p.key for p in loader.plugins()] == [str(single.resolve())]
        assert sys.modules[single.stem].LOADED
    finally:
        sys.modules.pop(single.stem, None)


def test_a_hook_that_raises_where_seqcore_goes_on_is_one_warning_naming_its_line(
    plugin_site, caplog, monkeypatch
):
    source = "from seqcore import hookimpl\n\n\n@hookimpl\ndef seqcore_add_commands(cli):\n"
    source += "    raise KeyError('cmd')\n"
    module = plugin_site.add("seqcore-plugin-cmds", source)
    plugin_site.load(strict=True)
    try:
        sys.modules[module].seqcore_add_commands(None)
    except KeyError as e:
        raised = e
    where = f"{plugin_site.site / module}.py:6"
    expected = (
        f"plug-in seqcore-plugin-cmds 1.0: hook seqcore_add_commands raised KeyError: 'cmd' "
        f"(at {where})"
    )
    with caplog.at_level(logging.WARNING, logger="seqcore.plugins"):
        loader.plugin_failed("seqcore-plugin-cmds:cmds", "seqcore_add_commands", raised)
    assert caplog.records[0].getMessage().startswith(expected + " (use --strict-plugins")
    assert loader.plugins()[0].errors == [expected]
    monkeypatch.setenv(loader.ENV_STRICT, "1")
    with pytest.raises(PluginLoadError, match="hook seqcore_add_commands raised KeyError"):
        loader.plugin_failed("seqcore-plugin-cmds:cmds", "seqcore_add_commands", raised)
