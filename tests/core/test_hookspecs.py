"""Every hook specification is documented, in its docstring and in docs/hooks.md."""

import inspect
from pathlib import Path

import pytest

from seqcore import hookspecs
from seqcore.markers import PROJECT_NAME

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
SPECS = [
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, f"{PROJECT_NAME}_spec")
]


def test_the_issue_s_hooks_are_all_specified():
    assert set(SPECS) >= {
        "seqcore_add_commands",
        "seqcore_train_begin",
        "seqcore_epoch_begin",
        "seqcore_update_end",
        "seqcore_validation_end",
        "seqcore_checkpoint_saved",
        "seqcore_train_end",
    }


@pytest.mark.parametrize("name", SPECS)
def test_every_hookspec_is_in_docs_hooks_md(name):
    assert f"| `{name}` |" in DOCS.read_text(encoding="utf-8"), f"{name} missing from docs/hooks.md"


@pytest.mark.parametrize("name", SPECS)
def test_every_hookspec_docstring_says_when_and_how_often(name):
    doc = inspect.getdoc(getattr(hookspecs, name)).lower()
    assert "called" in doc
    assert any(word in doc for word in ("once", "every", "after each")), doc
