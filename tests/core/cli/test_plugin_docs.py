"""The plug-in authoring guide (docs/plugins/) says what the code does: the names it lists as
reserved and as the core's own options are the commands' own, and its links lead somewhere.

When a list differs, the failure shows the block to paste between the page's markers."""

from __future__ import annotations

import importlib
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from seqcore.cli.component_command import ComponentCommand
from seqcore.cli.main import CORE_COMMANDS
from seqcore.config.fields import Component, collect_options, config_fields
from seqcore.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "plugins"
OPTIONS_PAGE = GUIDE / "options.md"


def _component_commands() -> dict[str, ComponentCommand]:
    """The core's commands that select components (their fields become the command's flags)."""
    found = {}
    for name, (target, _) in CORE_COMMANDS.items():
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if isinstance(command, ComponentCommand) and command.slots:
            found[name] = command
    return found


def _names(names: set[str]) -> str:
    """The field names, as the page lists them (the flag is the name with dashes)."""
    return textwrap.fill(", ".join(f"`{n}`" for n in sorted(names)), 100) + "\n"


def _block(page: str, marker: str) -> str:
    match = re.search(rf"<!-- {marker}: [^\n]*-->\n(.*?)<!-- {marker}: end -->", page, re.S)
    assert match, f"{OPTIONS_PAGE}: no {marker} markers"
    return match.group(1)


def expected_blocks() -> dict[str, str]:
    commands = _component_commands()
    reserved = set().union(*(c.reserved_names() for c in commands.values()))
    core = {
        f.name
        for command in commands.values()
        for component in command.base
        for f, _ in config_fields(component.config_class)
    }
    return {"reserved-names": _names(reserved), "core-options": _names(core - reserved)}


def test_selecting_commands_are_train_and_config():
    # the page says only these two meet components' fields
    assert sorted(_component_commands()) == ["config", "train"]


def test_reserved_and_core_option_names_are_the_codes():
    page = OPTIONS_PAGE.read_text(encoding="utf-8")
    for marker, block in expected_blocks().items():
        assert _block(page, marker) == block, f"{OPTIONS_PAGE} {marker} should read:\n{block}"


@dataclass
class _Clashing:
    user_dir: str = "x"


def test_a_reserved_name_is_refused():
    # what the page promises for a reserved name
    component = Component("criterion", "clashing", _Clashing)
    train = _component_commands()["train"]
    with pytest.raises(ConfigError, match="declares a field 'user_dir', which is the name of a"):
        collect_options([component], train.reserved_names())


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings: lower case, punctuation dropped, spaces to -."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_links_between_pages_resolve():
    pages = [*GUIDE.glob("*.md"), ROOT / "README.md", ROOT / "docs" / "hooks.md"]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
            if "://" in target:
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists() or (anchor and anchor not in _anchors(path)):
                broken.append(f"{page.relative_to(ROOT)} -> {target}#{anchor}")
    assert not broken, broken
    assert (GUIDE / "README.md").read_text().count("tutorial-simple-lstm.md") == 1
