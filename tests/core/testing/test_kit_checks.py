"""The conformance kit passes seqcore's own components and reports planted defects, each with
the message that names the broken contract and the fix."""

from __future__ import annotations

import sys
import types

import pytest
import torch

import seqcore_lstm  # noqa: F401  (registers the lstm models)
import seqcore_toy  # noqa: F401  (registers the toy model)
from seqcore.criterions.cross_entropy import CrossEntropyCriterion
from seqcore.optim.lr_scheduler.inverse_sqrt import InverseSquareRootSchedule
from seqcore.optim.sgd import SGD
from seqcore.registry import ARCHITECTURES, CRITERIONS, LR_SCHEDULERS, MODELS, OPTIMIZERS, TASKS
from seqcore.tasks.translation import TranslationTask
from seqcore.testing import (
    ContractError,
    check_criterion,
    check_hooks,
    check_lr_scheduler,
    check_model,
    check_optimizer,
    check_task,
    write_translation_data,
)
from seqcore_toy.model import ToyConfig, ToyDecoder, ToyModel

TINY_LSTM = dict(
    encoder_embed_dim=8,
    encoder_hidden_size=8,
    decoder_embed_dim=8,
    decoder_hidden_size=8,
    decoder_out_embed_dim=8,
)


@pytest.fixture
def planted():
    """Registers defective components under fresh names for one test, then removes them."""
    added: list[tuple] = []

    def plant(registry, name, obj, config_class=None, **extra):
        registry.register(name, obj, config_class, **extra)
        added.append((registry, name))
        return name

    yield plant
    for registry, name in added:
        registry._entries.pop(name, None)


def test_first_party_components_pass():
    check_model("lstm", TINY_LSTM)
    check_model("toy_tiny")
    check_criterion("cross_entropy", "toy_tiny")
    check_criterion("label_smoothed_cross_entropy", "toy_tiny", {"label_smoothing": 0.1})
    check_optimizer("sgd", {"momentum": 0.9})
    check_lr_scheduler("inverse_sqrt", {"warmup_updates": 10})
    check_hooks(seqcore_toy)


class CachelessDecoder(ToyDecoder):
    """Defect: reads only the newest token with incremental_state, but also adds the position,
    which the full forward does not."""

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        logits, extra = super().forward(prev_output_tokens, encoder_out, incremental_state)
        if incremental_state is not None:
            logits = logits + prev_output_tokens.size(1)
        return logits, extra


class DriftingModel(ToyModel):
    @classmethod
    def build_model(cls, cfg, task):
        model = super().build_model(cfg, task)
        model.decoder = CachelessDecoder(task.target_dictionary, cfg.embed_dim)
        return model


def _plant_model(plant, name, cls):
    plant(MODELS, name, cls, ToyConfig)
    plant(ARCHITECTURES, name, lambda cfg: None, None, model=name)


def test_incremental_path_that_differs(planted):
    _plant_model(planted, "kit_drifting", DriftingModel)
    with pytest.raises(ContractError, match="incremental decoding gives the full forward's") as e:
        check_model("kit_drifting")
    assert "step 0 differs" in str(e.value)
    assert "fix: with incremental_state, compute only the newest position" in str(e.value)


class StateLosingDecoder(ToyDecoder):
    """Defect: keeps a per-row cache and forgets to reorder it (no override of the prefix)."""

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        if incremental_state is None:
            return super().forward(prev_output_tokens, encoder_out)
        cache = incremental_state.setdefault("kit_unreordered", {})
        x = self.embed(prev_output_tokens[:, -1:])
        if "mean" not in cache:
            cache["mean"] = encoder_out["mean"]
        x = x + cache["mean"].unsqueeze(1)
        return self.out(torch.relu(x)), None


class StateLosingModel(ToyModel):
    @classmethod
    def build_model(cls, cfg, task):
        model = super().build_model(cfg, task)
        model.decoder = StateLosingDecoder(task.target_dictionary, cfg.embed_dim)
        return model


def test_cache_not_reordered(planted):
    _plant_model(planted, "kit_unreordered", StateLosingModel)
    with pytest.raises(ContractError, match="after the batch is reordered") as e:
        check_model("kit_unreordered")
    assert "fix: reorder every cached tensor" in str(e.value)


class UnusedParameterModel(ToyModel):
    @classmethod
    def build_model(cls, cfg, task):
        model = super().build_model(cfg, task)
        model.spare = torch.nn.Linear(2, 2)
        return model


def test_parameter_without_gradient(planted):
    _plant_model(planted, "kit_unused", UnusedParameterModel)
    with pytest.raises(ContractError, match="no gradient for spare.weight, spare.bias") as e:
        check_model("kit_unused")
    assert "may_skip_parameters()" in str(e.value)


class NaNCriterion(CrossEntropyCriterion):
    def forward(self, model, sample, reduce=True):
        loss, sample_size, log = super().forward(model, sample, reduce)
        return loss * float("nan"), sample_size, log


def test_nan_loss(planted):
    config = CRITERIONS.get("cross_entropy").config_class
    planted(CRITERIONS, "kit_nan", NaNCriterion, config)
    with pytest.raises(ContractError, match="the loss is finite on a well-formed batch") as e:
        check_criterion("kit_nan", "toy_tiny")
    assert "loss is nan" in str(e.value)


class SentenceAvgIgnored(CrossEntropyCriterion):
    def forward(self, model, sample, reduce=True):
        loss, _, log = super().forward(model, sample, reduce)
        return loss, sample["ntokens"], log


def test_sentence_avg_ignored(planted):
    config = CRITERIONS.get("cross_entropy").config_class
    planted(CRITERIONS, "kit_tokens_only", SentenceAvgIgnored, config)
    with pytest.raises(ContractError, match="with sentence_avg=True, sample_size is the number"):
        check_criterion("kit_tokens_only", "toy_tiny")


class NegativeSchedule(InverseSquareRootSchedule):
    def step_update(self, num_updates):
        super().step_update(num_updates)
        if num_updates > 1000:
            self.optimizer.set_lr(1.0 - num_updates / 1000)
        return self.optimizer.get_lr()


def test_negative_lr(planted):
    config = LR_SCHEDULERS.get("inverse_sqrt").config_class
    planted(LR_SCHEDULERS, "kit_negative", NegativeSchedule, config)
    with pytest.raises(ContractError, match="finite and not negative at every update") as e:
        check_lr_scheduler("kit_negative")
    assert "fix: clamp the schedule" in str(e.value)


class ForgetfulSchedule(InverseSquareRootSchedule):
    """Defect: keeps a counter that state_dict does not save."""

    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        self.calls = 0

    def step_update(self, num_updates):
        self.calls += 1
        self.optimizer.set_lr(1.0 / (1 + self.calls))
        return self.optimizer.get_lr()


def test_scheduler_state_that_does_not_round_trip(planted):
    config = LR_SCHEDULERS.get("inverse_sqrt").config_class
    planted(LR_SCHEDULERS, "kit_forgetful", ForgetfulSchedule, config)
    with pytest.raises(ContractError, match="loaded from state_dict goes on with the same rates"):
        check_lr_scheduler("kit_forgetful")


class MomentlessSGD(SGD):
    """Defect: its momentum buffers are dropped from state_dict."""

    def state_dict(self):
        state = super().state_dict()
        return {**state, "state": {}}


def test_optimizer_state_that_does_not_round_trip(planted):
    config = OPTIMIZERS.get("sgd").config_class
    planted(OPTIMIZERS, "kit_momentless", MomentlessSGD, config)
    with pytest.raises(ContractError, match="makes the same next update") as e:
        check_optimizer("kit_momentless", {"momentum": 0.9})
    assert "fix: save every running statistic" in str(e.value)


def test_hook_with_a_wrong_name_or_argument():
    plugin = types.ModuleType("kit_bad_hooks")

    def seqcore_train_begins(trainer):
        pass

    def seqcore_epoch_begin(trainer, epok):
        pass

    plugin.seqcore_train_begins = seqcore_train_begins
    plugin.seqcore_epoch_begin = seqcore_epoch_begin
    with pytest.raises(ContractError, match="did you mean seqcore_train_begin") as e:
        check_hooks(plugin)
    assert "epok" in str(e.value)


def test_importing_the_kit_imports_no_torch():
    import subprocess

    code = (
        "import sys, seqcore.testing, seqcore.testing.fixtures; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "seqcore.testing.check_model; assert 'torch' in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_pytest11_entry_point():
    from importlib.metadata import entry_points

    assert not [ep for ep in entry_points(group="pytest11") if "seqcore" in ep.value]


def test_task_that_loads_nothing(planted, tmp_path):
    class EmptyTask(TranslationTask):
        def load_dataset(self, split, epoch=1, combine=False):
            self.datasets[split] = []

    config = TASKS.get("translation").config_class
    planted(TASKS, "kit_empty", EmptyTask, config)
    data = write_translation_data(tmp_path / "data")
    with pytest.raises(ContractError, match=r"load_dataset\('train'\) loads the split's examples"):
        check_task("kit_empty", data)


class OverpromisingDecoder(ToyDecoder):
    """Defect: a position table of 10 while max_positions() promises 64."""

    def __init__(self, dictionary, dim):
        super().__init__(dictionary, dim)
        self.positions = torch.nn.Embedding(10, dim)

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        length = prev_output_tokens.size(1)
        logits, extra = super().forward(prev_output_tokens, encoder_out, incremental_state)
        if incremental_state is None:
            logits = logits + self.positions(torch.arange(length)).sum(-1, keepdim=True)
        else:
            logits = logits + self.positions(torch.tensor([length - 1])).sum(-1, keepdim=True)
        return logits, extra

    def max_positions(self):
        return 64


class OverpromisingModel(ToyModel):
    @classmethod
    def build_model(cls, cfg, task):
        model = super().build_model(cfg, task)
        model.decoder = OverpromisingDecoder(task.target_dictionary, cfg.embed_dim)
        return model


def test_max_positions_not_honoured(planted):
    _plant_model(planted, "kit_overpromising", OverpromisingModel)
    with pytest.raises(ContractError, match="accepts inputs as long as max_positions") as e:
        check_model("kit_overpromising")
    assert "target 64 tokens: IndexError" in str(e.value)
