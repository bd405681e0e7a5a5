"""The adam plug-in passes the conformance kit's optimizer checks."""

import pytest

from seqcore.testing import check_optimizer


@pytest.mark.parametrize(
    "overrides",
    [{}, {"weight_decay": 0.01}, {"lr": [0.5], "adam_betas": (0.8, 0.9), "adam_impl": "single"}],
)
def test_adam_conforms(overrides):
    check_optimizer("adam", overrides)
