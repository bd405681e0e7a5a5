"""``seqcore.testing``: the conformance kit for plug-in authors.

Use it from a plug-in's tests with ``pytest_plugins = ["seqcore.testing"]`` in ``conftest.py``
(or ``pytest -p seqcore.testing``) for the fixtures, and call the checks::

    from seqcore.testing import check_model
    def test_my_arch():
        check_model("my_arch", {"embed_dim": 8})

Nothing loads the kit into a pytest run that does not ask for it (there is no ``pytest11`` entry
point), and importing it imports no torch: the checks are re-exported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from seqcore.testing.contract import ContractError
from seqcore.testing.fixtures import seqcore_cli, tiny_lm_data, tiny_translation_data

# public name -> module that defines it; imported on first access (PEP 562), as they need torch
_LAZY = {
    "build_tiny_model": "seqcore.testing.models",
    "check_model": "seqcore.testing.models",
    "check_model_architectures": "seqcore.testing.models",
    "check_model_checkpoint": "seqcore.testing.checkpoints",
    "check_criterion": "seqcore.testing.criterions",
    "check_optimizer": "seqcore.testing.optimizers",
    "check_lr_scheduler": "seqcore.testing.lr_schedulers",
    "check_hooks": "seqcore.testing.hooks",
    "check_task": "seqcore.testing.tasks",
    "run_cli": "seqcore.testing.cli",
    "CliResult": "seqcore.testing.cli",
    "write_translation_data": "seqcore.testing.data",
    "write_lm_data": "seqcore.testing.data",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqcore.testing' has no attribute {name!r}")


__all__ = [
    "ContractError",
    "seqcore_cli",
    "tiny_lm_data",
    "tiny_translation_data",
    *_LAZY,
]
