"""Writing a new plug-in distribution: ``seqcore-plugin-NAME`` with package ``seqcore_NAME``."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from seqcore._version import __version__
from seqcore.errors import ConfigError
from seqcore.loader import CORE_DISTRIBUTION
from seqcore.scaffold.templates import (
    CONFTEST,
    INIT,
    KINDS,
    MODULES,
    PYPROJECT,
    README,
    TEST_TRAIN,
    TESTS,
    TESTS_HEAD,
)

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")

# a tiny first-party model, for plug-ins that bring no model of their own
LSTM_TINY = {
    name: 8
    for name in [
        "encoder_embed_dim",
        "encoder_hidden_size",
        "decoder_embed_dim",
        "decoder_hidden_size",
        "decoder_out_embed_dim",
    ]
}
LSTM_FLAGS = ["--arch", "lstm"]
for _name, _value in LSTM_TINY.items():
    LSTM_FLAGS += [f"--{_name.replace('_', '-')}", str(_value)]


def check_name(name: str) -> None:
    """One line for a NAME that pip or Python would reject (or mangle)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"plug-in name {name!r}: use 1-40 lowercase letters, digits and underscores, starting "
            f"with a letter (it becomes the distribution seqcore-plugin-NAME and the package "
            f"seqcore_NAME)"
        )


def compatible_range(version: str = __version__) -> str:
    """The core versions a plug-in written against ``version`` supports: the same minor
    release series before 1.0 (where a minor release may break the API), else the same major."""
    major, minor = (int(x) for x in version.split(".")[:2])
    if major == 0:
        return f">=0.{minor},<0.{minor + 1}"
    return f">={major}.{minor},<{major + 1}"


def _train_flags(name: str, kinds: Sequence[str]) -> list[str]:
    flags = ["--arch", f"{name}_tiny"] if "model" in kinds else list(LSTM_FLAGS)
    if "task" in kinds:
        flags += ["--task", f"{name}_translation", "--source-word-dropout", "0.2"]
    if "criterion" in kinds:
        flags += ["--criterion", f"{name}_cross_entropy"]
    flags += ["--optimizer", f"{name}_sgd" if "optimizer" in kinds else "sgd", "--lr", "0.1"]
    if "lr_scheduler" in kinds:
        flags += ["--lr-scheduler", f"{name}_warmup", "--warmup-updates", "2"]
    return flags


def plugin_files(name: str, kinds: Sequence[str]) -> dict[str, str]:
    """Relative path -> text of every file of the plug-in."""
    package = f"seqcore_{name}"
    camel = "".join(part.capitalize() for part in name.split("_"))
    values = {"name": name, "package": package, "camel": camel}
    components = ", ".join(MODULES[k][3].format(**values) for k in kinds)
    arch = f"{name}_tiny" if "model" in kinds else "lstm"
    core_range = compatible_range()
    train_flags = _train_flags(name, kinds)
    values.update(
        components=components,
        core=CORE_DISTRIBUTION,
        core_range=core_range,
        core_minor=".".join(__version__.split(".")[:2]),
        arch=arch,
        train_flags="".join(f"\n        {f!r}," for f in train_flags).replace("'", '"'),
        train_flags_text=" ".join(train_flags),
        components_list="".join(f'\n    "{c.strip()}",' for c in components.split(",")),
        arch_overrides="None" if "model" in kinds else "TINY_LSTM",
    )
    files = {
        "pyproject.toml": PYPROJECT.format(**values),
        "README.md": README.format(**values),
        "tests/conftest.py": CONFTEST,
    }
    imports, exported = [], []
    for kind in kinds:
        module, template, names, _ = MODULES[kind]
        files[f"src/{package}/{module}.py"] = template.format(**values)
        names = [n.format(**values) for n in names]
        imports.append(f"from {package}.{module} import {', '.join(names)}")
        exported += names
    files[f"src/{package}/__init__.py"] = INIT.format(
        imports="\n".join(sorted(imports)),
        all="".join(f'\n    "{n}",' for n in sorted(exported)) + "\n",
        **values,
    )
    checks = sorted({TESTS[k][0] for k in kinds if TESTS[k][0]})
    test_imports = [f"import {package}"] if "hook" in kinds else []
    if "model" not in kinds:
        test_imports = ["import pytest", *test_imports]
    if "task" in kinds:  # its own test builds the task and runs its steps
        test_imports = ["import torch", *test_imports]
    if checks:
        names = "".join(f"\n    {c}," for c in checks)
        test_imports.append(f"from seqcore.testing import ({names}\n)")
    if "task" in kinds:
        test_imports.append(
            f"from {package}.task import {camel}Translation, {camel}TranslationConfig"
        )
    if "model" not in kinds:
        tiny = "".join(f'\n    "{k}": {v},' for k, v in LSTM_TINY.items())
        test_imports.append(
            f"\n# a tiny first-party model to run the components with\nTINY_LSTM = {{{tiny}\n}}"
        )
    tests = TESTS_HEAD.format(imports="\n".join(test_imports), **values)
    for kind in kinds:
        tests += TESTS[kind][1].format(**values)
    train = TEST_TRAIN.format(**values)
    if "model" not in kinds:  # trained with the first-party lstm, where it is installed
        train = train.replace(
            "):\n    save", '):\n    pytest.importorskip("seqcore_lstm")\n    save', 1
        )
    files["tests/test_components.py"] = tests + train
    return files


def write_plugin(name: str, kinds: Sequence[str], parent: Path) -> Path:
    """Write ``parent/seqcore-plugin-NAME`` and return it; an existing folder is never touched,
    and a failure leaves nothing behind (the files are written aside, then moved in place)."""
    check_name(name)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ConfigError(f"--kind {unknown[0]!r}: choose from {', '.join(KINDS)}")
    kinds = [k for k in KINDS if k in kinds] or ["model"]
    dest = parent / f"seqcore-plugin-{name}"
    if dest.exists():
        raise ConfigError(f"{dest} already exists; choose another NAME or --dir")
    if not parent.is_dir():
        raise ConfigError(f"--dir {parent}: no such folder")
    with tempfile.TemporaryDirectory(dir=parent, prefix=f".{dest.name}-") as tmp:
        staging = Path(tmp) / dest.name
        for relative, text in plugin_files(name, kinds).items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        shutil.move(str(staging), dest)
    return dest
