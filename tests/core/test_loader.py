"""Why a checkpoint's component is not available here: what the loader tells the user."""

import pluggy
import pytest

from seqcore import loader
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
