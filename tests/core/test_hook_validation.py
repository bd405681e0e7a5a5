"""Hook implementations checked against the specifications at load, and hooks that raise."""

import types

import pluggy
import pytest

import seqcore
from seqcore import hookspecs
from seqcore.errors import HookError, SeqcoreError
from seqcore.hook_validation import hook_names, hook_problems, watch_hook_calls
from seqcore.markers import PROJECT_NAME


@pytest.fixture
def manager():
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def _plugin(**functions) -> types.ModuleType:
    module = types.ModuleType("fake_plugin")
    for name, fn in functions.items():
        fn.__name__ = name
        setattr(module, name, seqcore.hookimpl(fn))
    return module


def test_matching_implementations_have_no_problems(manager):
    plugin = _plugin(
        seqcore_update_end=lambda num_updates, log: None,
        seqcore_train_begin=lambda: None,
        seqcore_epoch_begin=lambda trainer, epoch, verbose=False: None,
    )
    assert hook_problems(manager, plugin) == []
    manager.register(plugin)  # and pluggy agrees


def test_a_misspelled_hook_name_suggests_the_hook(manager):
    [problem] = hook_problems(manager, _plugin(seqcore_validation_ends=lambda trainer: None))
    assert problem.startswith("seqcore_validation_ends (")
    assert "is not a seqcore hook; did you mean seqcore_validation_end?" in problem
    # pluggy on its own accepts it silently: the reason for the check
    manager.register(_plugin(seqcore_validation_ends=lambda trainer: None))


def test_a_name_like_no_hook_lists_the_hooks(manager):
    [problem] = hook_problems(manager, _plugin(seqcore_make_coffee=lambda: None))
    assert f"the hooks are: {', '.join(hook_names(manager))}" in problem


def test_an_unknown_argument_lists_the_valid_ones(manager):
    plugin = _plugin(seqcore_update_end=lambda trainer, num_update: None)
    [problem] = hook_problems(manager, plugin)
    assert "hook seqcore_update_end" in problem
    assert "asks for 'num_update', which it is not given" in problem
    assert problem.endswith("its arguments are: trainer, num_updates, log")
    with pytest.raises(pluggy.PluginValidationError):  # what pluggy alone would do: a traceback
        manager.register(plugin)


def test_other_names_and_submodules_are_not_hooks(manager):
    plugin = _plugin()
    plugin.seqcore_transformer = types.ModuleType("seqcore_transformer")  # an imported plug-in
    plugin.SEQCORE_VERSION = "1"
    plugin.helper = lambda: None
    assert hook_problems(manager, plugin) == []


def test_a_raising_hook_becomes_one_line_naming_plugin_hook_and_exception(manager):
    def seqcore_update_end(num_updates):
        raise ValueError(f"bad update {num_updates}\nsecond line")

    manager.register(_plugin(seqcore_update_end=seqcore_update_end), name="dist-x:x")
    manager.register(_plugin(seqcore_train_begin=lambda: None), name="dist-y:y")
    watch_hook_calls(manager, lambda name: f"plug-in {name.split(':')[0]} 1.0")
    manager.hook.seqcore_train_begin(trainer=None)  # no failure: nothing changes
    with pytest.raises(HookError) as info:
        manager.hook.seqcore_update_end(trainer=None, num_updates=7, log={})
    message = str(info.value)
    assert message.startswith(
        "plug-in dist-x 1.0: hook seqcore_update_end raised ValueError: bad update 7 second line"
    )
    assert f"(at {__file__}:" in message and "\n" not in message
    assert isinstance(info.value.__cause__, ValueError)


def test_a_user_error_or_ctrl_c_from_a_hook_passes_unchanged(manager):
    class Stop(SeqcoreError):
        pass

    def seqcore_train_begin():
        raise Stop("the plug-in's own one-line error")

    def seqcore_train_end():
        raise KeyboardInterrupt

    manager.register(
        _plugin(seqcore_train_begin=seqcore_train_begin, seqcore_train_end=seqcore_train_end)
    )
    watch_hook_calls(manager, str)
    with pytest.raises(Stop):
        manager.hook.seqcore_train_begin(trainer=None)
    with pytest.raises(KeyboardInterrupt):
        manager.hook.seqcore_train_end(trainer=None)
