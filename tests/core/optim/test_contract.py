"""The optimizer contract: a subclass wraps an optimizer through the public ``optimizer``
attribute, and ``--lr`` is one field (``LearningRateConfig``) shared by every optimizer and
schedule."""

from __future__ import annotations

import pytest
import torch

from seqcore.config import make_config
from seqcore.errors import ConfigError
from seqcore.loader import load_plugins
from seqcore.optim import LearningRateConfig, Optimizer
from seqcore.registry import LR_SCHEDULERS, OPTIMIZERS


class TorchSGD(Optimizer):
    """A plug-in optimizer written against the documented contract only."""

    def __init__(self, cfg, params):
        super().__init__(cfg, params)
        self.optimizer = torch.optim.SGD(self.params, lr=cfg.lr[0])


def test_a_subclass_wraps_a_torch_optimizer_through_the_public_attribute():
    param = torch.nn.Parameter(torch.ones(3))
    opt = TorchSGD(make_config(LearningRateConfig, "torch_sgd", {"lr": [0.5]}), [param])
    assert isinstance(opt.optimizer, torch.optim.SGD)
    param.grad = torch.ones(3)
    opt.step()
    assert torch.allclose(param.detach(), torch.full((3,), 0.5))
    assert opt.get_lr() == 0.5


def test_wrapping_something_else_or_nothing_is_an_error_naming_the_class():
    class Forgetful(Optimizer):
        pass

    opt = Forgetful(None, [torch.nn.Parameter(torch.ones(1))])
    with pytest.raises(NotImplementedError, match="Forgetful did not set the optimizer"):
        opt.step()
    with pytest.raises(TypeError, match="Forgetful.optimizer must be a torch.optim.Optimizer"):
        opt.optimizer = "sgd"


def test_every_first_party_optimizer_and_schedule_shares_the_one_lr_field():
    load_plugins()
    registered = [*OPTIMIZERS.entries(), *LR_SCHEDULERS.entries()]
    first_party = [e for e in registered if e.config_class.__module__.startswith("seqcore")]
    assert {e.name for e in first_party} >= {"sgd", "adam", "fixed", "inverse_sqrt"}
    for entry in first_party:
        assert issubclass(entry.config_class, LearningRateConfig), entry.name
        mro = entry.config_class.__mro__
        declaring = [c for c in mro if "lr" in vars(c).get("__annotations__", {})]
        assert declaring == [LearningRateConfig], entry.name


@pytest.mark.parametrize("lr, message", [([], "needs at least one value"), ([-1.0], "negative")])
def test_the_lr_check_is_the_same_everywhere(lr, message):
    load_plugins()
    for entry in [OPTIMIZERS.get("sgd"), OPTIMIZERS.get("adam"), LR_SCHEDULERS.get("fixed")]:
        with pytest.raises(ConfigError, match=message):
            make_config(entry.config_class, entry.name, {"lr": lr})
