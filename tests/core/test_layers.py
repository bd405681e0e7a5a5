"""The core's layers import one way: a module imports only from its own layer or those below.

Read from the source (``ast``), so an upward import fails here whether it sits at the top of a
module or inside a function. Imports inside functions are allowed only where they are there for
start-up speed (the command line imports each command's library when the command runs), each
listed by name in ``LAZY_FOR_START_UP``; there are no other exceptions. An entry that no longer
occurs may simply be removed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "core" / "src"

# Lowest first. A module may import from its own layer and the layers before it.
# ``seqcore`` itself is the package's __init__ (which re-exports the first layer's names).
LAYERS: list[tuple[str, ...]] = [
    (
        "seqcore",
        "seqcore._version",
        "seqcore.errors",
        "seqcore.markers",
        "seqcore.origin",
        "seqcore.safe_files",
    ),
    ("seqcore.registry",),
    ("seqcore.config",),
    ("seqcore.utils",),  # fairseq.utils' names for ported code: torch helpers only
    ("seqcore.data",),
    ("seqcore.models", "seqcore.criterions", "seqcore.optim"),
    ("seqcore.generation",),
    ("seqcore.tasks",),
    ("seqcore.hookspecs", "seqcore.hook_validation", "seqcore.loader", "seqcore.builtins"),
    ("seqcore.checkpoint_utils",),
    ("seqcore.training", "seqcore.evaluation", "seqcore.interop", "seqcore.scaffold"),
    ("seqcore.cli", "seqcore.__main__"),
    ("seqcore.testing",),  # the conformance kit for plug-in tests, over everything
]

# Imports inside functions for start-up speed, as cli/main.py documents: a command imports its
# library when it runs, and ``seqcore --help``/``--version`` load no plug-in.
LAZY_FOR_START_UP: set[tuple[str, str]] = {
    ("seqcore.cli.average_checkpoints", "seqcore.evaluation.average"),
    ("seqcore.cli.eval_lm", "seqcore.evaluation.eval_lm"),
    ("seqcore.cli.generate", "seqcore.evaluation.generate"),
    ("seqcore.cli.interactive", "seqcore.evaluation.interactive"),
    ("seqcore.cli.score", "seqcore.evaluation.score"),
    ("seqcore.cli.import_fairseq", "seqcore.interop.convert"),
    ("seqcore.cli.train", "seqcore.training.loop"),
    ("seqcore.cli.main", "seqcore.loader"),
    ("seqcore.cli.main", "seqcore.cli.plugin_commands"),
    # the kit's fixtures import torch only when a test uses them (pytest loads the kit early)
    ("seqcore.testing.fixtures", "seqcore.testing.data"),
    ("seqcore.testing.fixtures", "seqcore.testing.cli"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    best, index = "", None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (prefix != "seqcore" and module.startswith(prefix + "."))
            if matches and len(prefix) > len(best):
                best, index = prefix, i
    assert index is not None, f"{module} is in no layer: add it to LAYERS"
    return index


def is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports() -> list[tuple[str, str, bool]]:
    """(importing module, imported module, inside a function) for every seqcore import."""
    found = []
    for path in sorted((SRC / "seqcore").rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = set()
        type_checking = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_function |= {id(n) for n in ast.walk(node) if n is not node}
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                type_checking |= {id(n) for n in ast.walk(node) if n is not node}
        for node in ast.walk(tree):
            if id(node) in type_checking:
                continue  # for type checkers only: never imported at run time
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from seqcore import hookspecs`` imports the module seqcore.hookspecs
                names = [
                    f"{node.module}.{alias.name}"
                    if is_module(f"{node.module}.{alias.name}")
                    else node.module
                    for alias in node.names
                ]
            else:
                continue
            for name in names:
                if name == "seqcore" or name.startswith("seqcore."):
                    found.append((module, name, id(node) in in_function))
    return found


IMPORTS = imports()


def test_the_graph_is_read():
    assert len(IMPORTS) > 200
    assert ("seqcore.models.registry", "seqcore.config.component", False) in IMPORTS


def test_no_module_imports_from_a_layer_above_its_own():
    upward = {
        (module, imported)
        for module, imported, _ in IMPORTS
        if layer_of(imported) > layer_of(module)
    }
    assert upward == set()


def test_imports_inside_functions_are_only_for_start_up_speed():
    inner = {(module, imported) for module, imported, in_function in IMPORTS if in_function}
    assert inner - LAZY_FOR_START_UP == set()


@pytest.mark.parametrize(
    "module, imported",
    [
        ("seqcore.config.resolve", "seqcore.models.registry"),  # config is below models
        ("seqcore.tasks.translation", "seqcore.evaluation.text"),  # tasks are below evaluation
        ("seqcore.checkpoint_utils", "seqcore.training"),  # checkpoints are below the loop
    ],
)
def test_the_cycles_named_in_issue_19_are_gone(module, imported):
    def within(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    assert any(within(m, module) for m, _, _ in IMPORTS)  # the module is there and read
    assert not any(within(m, module) and within(i, imported) for m, i, _ in IMPORTS)


def test_plugins_import_only_exported_names():
    """A first-party plug-in needs nothing beyond what a package's ``__init__`` exports (and
    ``seqcore.errors``, a module of its own)."""
    public = {"seqcore.errors", "seqcore.models", "seqcore.criterions", "seqcore.tasks"}
    public |= {"seqcore.optim", "seqcore.optim.lr_scheduler", "seqcore.data", "seqcore"}
    public |= {"seqcore.interop"}  # the fairseq importers' extension point
    plugins = SRC.parents[1] / "plugins"
    for path in sorted(plugins.glob("*/src/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seqcore."):
                assert node.module in public, f"{path.name}: from {node.module} import ..."
