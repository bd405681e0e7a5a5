"""The files ``seqcore new-plugin`` writes, one template per kind of component.

Each template is ``str.format``-ed with ``name`` (the plug-in name, ``foo``), ``package``
(``seqcore_foo``) and ``camel`` (``Foo``); literal braces are doubled.
"""

from __future__ import annotations

KINDS = ("model", "criterion", "task", "optimizer", "lr_scheduler", "hook", "command")

MODEL = '''"""Model ``{name}``: a GRU decoder started from the mean of the source embeddings.

Small on purpose: it shows the whole model contract (docs/plugins/models.md) in one file.
- ``Encoder.forward(src_tokens, src_lengths)`` returns what the decoder reads (here a dict);
  ``reorder_encoder_out`` (inherited) reorders every tensor in it along the batch for beam search.
- ``Decoder.forward(prev_output_tokens, encoder_out, incremental_state)`` returns
  ``(logits, extra)``; with an ``incremental_state`` it computes only the newest position, from
  the state it cached there (``reorder_incremental_state``, inherited, reorders that cache).
- ``build_model(cfg, task)`` builds it from its config and the task's dictionaries.
"""

from dataclasses import dataclass, field

import torch
from seqcore.models import (
    Decoder,
    Encoder,
    EncoderDecoderModel,
    register_model,
    register_model_architecture,
)
from torch import nn


@dataclass
class {camel}Config:
    # every field is a flag (--embed-dim ...) and a config-file key; the metadata is its help
    embed_dim: int = field(default=64, metadata={{"help": "embedding dimension"}})
    hidden_size: int = field(default=64, metadata={{"help": "GRU hidden size"}})
    dropout: float = field(default=0.1, metadata={{"help": "dropout probability"}})


class {camel}Encoder(Encoder):
    def __init__(self, dictionary, cfg: {camel}Config) -> None:
        super().__init__(dictionary)
        self.embed = nn.Embedding(len(dictionary), cfg.embed_dim, padding_idx=dictionary.pad())
        self.proj = nn.Linear(cfg.embed_dim, cfg.hidden_size)

    def forward(self, src_tokens, src_lengths):
        mask = src_tokens.ne(self.dictionary.pad()).unsqueeze(-1)
        mean = (self.embed(src_tokens) * mask).sum(1) / src_lengths.unsqueeze(-1).clamp(min=1)
        return {{"summary": torch.tanh(self.proj(mean))}}  # (batch, hidden): dim 0 is the batch


class {camel}Decoder(Decoder):
    def __init__(self, dictionary, cfg: {camel}Config) -> None:
        super().__init__(dictionary)
        self.hidden_size = cfg.hidden_size
        self.embed = nn.Embedding(len(dictionary), cfg.embed_dim, padding_idx=dictionary.pad())
        self.gru = nn.GRU(cfg.embed_dim, cfg.hidden_size, batch_first=True)
        self.dropout = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden_size, len(dictionary))

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        hidden = self.get_incremental_state(incremental_state, "hidden")
        if hidden is not None:  # decoding step by step: only the newest token is new
            prev_output_tokens = prev_output_tokens[:, -1:]
        elif encoder_out is not None:
            hidden = encoder_out["summary"]
        else:
            hidden = prev_output_tokens.new_zeros(
                prev_output_tokens.size(0), self.hidden_size, dtype=torch.float
            )
        x = self.dropout(self.embed(prev_output_tokens))
        y, last = self.gru(x, hidden.unsqueeze(0).contiguous())
        # cached with the batch first, so that the inherited reordering applies
        self.set_incremental_state(incremental_state, "hidden", last.squeeze(0))
        return self.out(self.dropout(y)), None


@register_model("{name}", dataclass={camel}Config)
class {camel}Model(EncoderDecoderModel):
    @classmethod
    def build_model(cls, cfg, task):
        return cls(
            {camel}Encoder(task.source_dictionary, cfg),
            {camel}Decoder(task.target_dictionary, cfg),
        )


@register_model_architecture("{name}", "{name}_tiny")
def {name}_tiny(cfg):
    # fairseq style: fill only what the user did not set; the rest keeps the dataclass defaults
    cfg.embed_dim = getattr(cfg, "embed_dim", 16)
    cfg.hidden_size = getattr(cfg, "hidden_size", 16)
'''

CRITERION = '''"""Criterion ``{name}_cross_entropy``: token-level negative log-likelihood.

The criterion contract: ``forward(model, sample, reduce=True)`` returns ``(loss, sample_size,
logging_output)``: the loss summed over the batch, what the gradient is divided by (target tokens,
or sentences with --sentence-avg), and plain numbers to log. The trainer sums logging outputs
across batches and workers; ``reduce_metrics`` turns those sums into the reported figures (its
``loss`` picks the best checkpoint, so divide it by the sample size).
"""

import math
from dataclasses import dataclass, field

import torch.nn.functional as F
from seqcore.criterions import Criterion, register_criterion


@dataclass
class {camel}CrossEntropyConfig:
    sentence_avg: bool = field(
        default=False, metadata={{"help": "divide the gradient by sentences, not tokens"}}
    )


@register_criterion("{name}_cross_entropy", dataclass={camel}CrossEntropyConfig)
class {camel}CrossEntropy(Criterion):
    def forward(self, model, sample, reduce=True):
        net_output = model(**sample["net_input"])
        lprobs = model.get_normalized_probs(net_output, log_probs=True)
        target = model.get_targets(sample, net_output)
        loss = F.nll_loss(
            lprobs.reshape(-1, lprobs.size(-1)),
            target.reshape(-1),
            ignore_index=self.padding_idx,
            reduction="sum" if reduce else "none",
        )
        nsentences = target.size(0)
        sample_size = nsentences if self.cfg.sentence_avg else sample["ntokens"]
        logging_output = {{
            "loss": float(loss.detach().sum()),  # plain numbers: they are summed across workers
            "ntokens": sample["ntokens"],
            "nsentences": nsentences,
            "sample_size": sample_size,
        }}
        return loss, sample_size, logging_output

    @classmethod
    def reduce_metrics(cls, logging_outputs):
        total = {{k: sum(log.get(k, 0) for log in logging_outputs) for k in logging_outputs[0]}}
        size = total["sample_size"] or 1
        return {{**total, "loss": total["loss"] / size / math.log(2)}}  # in bits, as fairseq
'''

TASK = '''"""Task ``{name}_translation``: translation whose training sources lose words at random.

The task contract (docs/plugins/tasks.md): a task owns the data and the steps.
- ``setup_task(cfg)`` (a classmethod) loads what every split shares, here the two dictionaries;
- ``load_dataset(split, epoch, combine)`` fills ``self.datasets[split]``; the training loop loads
  ``--train-subset`` and the validation splits, ``seqcore generate`` its ``--gen-subset``;
- the trainer calls ``train_step(sample, model, criterion, optimizer, update_num)`` for every
  micro-batch on every rank (seeded per update, so a resumed run draws the same), and
  ``valid_step`` for every validation batch.

This one specialises the built-in ``translation`` task: the same data folder and flags, plus
``--source-word-dropout P``: while training, each source word becomes ``<unk>`` with probability
P, which teaches the model to translate from a context with gaps. Validation and ``seqcore
generate`` see the sources as they are: they do not go through ``train_step``.
"""

from dataclasses import dataclass, field

import torch
from seqcore.errors import ConfigError
from seqcore.tasks import register_task
from seqcore.tasks.translation import TranslationConfig, TranslationTask


@dataclass
class {camel}TranslationConfig(TranslationConfig):
    # the translation task's fields (DATA, --source-lang, ...) and one more flag
    source_word_dropout: float = field(
        default=0.1,
        metadata={{"help": "replace each training source word by <unk> with this probability"}},
    )

    def __post_init__(self):
        super().__post_init__()
        if not 0 <= self.source_word_dropout < 1:
            # checked before anything starts: the user gets this one line, naming the flag
            raise ConfigError(
                f"--source-word-dropout {{self.source_word_dropout}} must be at least 0 and below 1"
            )


@register_task("{name}_translation", dataclass={camel}TranslationConfig)
class {camel}Translation(TranslationTask):
    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        tokens = sample["net_input"]["src_tokens"]
        # words only: padding and the end-of-sentence marker stay
        words = tokens.ne(self.src_dict.pad()) & tokens.ne(self.src_dict.eos())
        dropped = words & (
            torch.rand(tokens.shape, device=tokens.device) < self.cfg.source_word_dropout
        )
        # a new sample: the one passed in is the trainer's, never changed in place
        net_input = {{
            **sample["net_input"],
            "src_tokens": tokens.masked_fill(dropped, self.src_dict.unk()),
        }}
        sample = {{**sample, "net_input": net_input}}
        return super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)
'''

OPTIMIZER = '''"""Optimizer ``{name}_sgd``: torch's SGD with momentum, wrapped.

The optimizer contract: ``Optimizer(cfg, params)``; set ``self.optimizer`` to the
``torch.optim.Optimizer`` you wrap, and the base class gives ``step``, ``zero_grad``,
``get_lr``/``set_lr``, ``state_dict``/``load_state_dict`` and gradient clipping. ``--lr`` is a
list shared with the learning-rate scheduler (``LearningRateConfig``); start from ``lr[0]``.
"""

from dataclasses import dataclass, field

import torch
from seqcore.optim import LearningRateConfig, Optimizer, register_optimizer


@dataclass
class {camel}SGDConfig(LearningRateConfig):
    momentum: float = field(default=0.9, metadata={{"help": "momentum factor"}})


@register_optimizer("{name}_sgd", dataclass={camel}SGDConfig)
class {camel}SGD(Optimizer):
    def __init__(self, cfg, params):
        super().__init__(cfg, params)
        self.optimizer = torch.optim.SGD(self.params, lr=cfg.lr[0], momentum=cfg.momentum)
'''

LR_SCHEDULER = '''"""Learning-rate scheduler ``{name}_warmup``: linear warm-up to --lr, then flat.

The scheduler contract: ``LRScheduler(cfg, optimizer)``; ``step_update(num_updates)`` after every
update and ``step_begin_epoch(epoch)`` / ``step(epoch, val_loss)`` around epochs each set the
rate on the optimizer and return it. Keep it a function of the update number and of what
``state_dict`` saves, so that a resumed run goes on with the same rates; never negative.
"""

from dataclasses import dataclass, field

from seqcore.optim import LearningRateConfig
from seqcore.optim.lr_scheduler import LRScheduler, register_lr_scheduler


@dataclass
class {camel}WarmupConfig(LearningRateConfig):
    warmup_updates: int = field(default=100, metadata={{"help": "updates to reach --lr"}})


@register_lr_scheduler("{name}_warmup", dataclass={camel}WarmupConfig)
class {camel}Warmup(LRScheduler):
    def __init__(self, cfg, optimizer):
        super().__init__(cfg, optimizer)
        self.peak = cfg.lr[0]
        self.step_update(0)

    def step_update(self, num_updates):
        fraction = min(1.0, (num_updates + 1) / (self.cfg.warmup_updates + 1))
        self.optimizer.set_lr(self.peak * fraction)
        return self.optimizer.get_lr()
'''

HOOKS = '''"""Hooks: functions named after a hook specification (docs/hooks.md), marked with
``seqcore.hookimpl``, taking any subset of its arguments. Called on every rank."""

import logging

import seqcore

logger = logging.getLogger(__name__)


@seqcore.hookimpl
def seqcore_train_end(trainer):
    if trainer.is_master:
        logger.info("{name}: training ended after %d updates", trainer.num_updates)
'''

COMMAND = '''"""A command added to the ``seqcore`` command line: ``seqcore {name}-info``."""

import click
import seqcore

COMPONENTS = [{components_list}
]


@click.command("{name}-info")
def info() -> None:
    """Say which components seqcore-plugin-{name} provides."""
    click.echo("seqcore-plugin-{name}:")
    for component in COMPONENTS:
        click.echo(f"  {{component}}")


@seqcore.hookimpl
def seqcore_add_commands(cli):
    cli.add_command(info)
'''

# kind -> (module, template, names the package re-exports, what it registers)
MODULES: dict[str, tuple[str, str, list[str], str]] = {
    "model": ("model", MODEL, ["{camel}Model", "{name}_tiny"], "model {name}, arch {name}_tiny"),
    "criterion": (
        "criterion",
        CRITERION,
        ["{camel}CrossEntropy"],
        "criterion {name}_cross_entropy",
    ),
    "task": ("task", TASK, ["{camel}Translation"], "task {name}_translation"),
    "optimizer": ("optimizer", OPTIMIZER, ["{camel}SGD"], "optimizer {name}_sgd"),
    "lr_scheduler": (
        "lr_scheduler",
        LR_SCHEDULER,
        ["{camel}Warmup"],
        "lr scheduler {name}_warmup",
    ),
    "hook": ("hooks", HOOKS, ["seqcore_train_end"], "hook seqcore_train_end"),
    "command": ("commands", COMMAND, ["seqcore_add_commands"], "command {name}-info"),
}

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "seqcore-plugin-{name}"
version = "0.1.0"
description = "A seqcore plug-in: {components}."
readme = "README.md"
requires-python = ">=3.10"
# the core's compatible range: the public API of its {core_minor}.x releases
dependencies = ["{core}{core_range}"]

[project.optional-dependencies]
test = ["pytest"]

# how seqcore finds the plug-in once it is installed: no import, no registration call
[project.entry-points.seqcore]
{name} = "{package}"

[tool.setuptools.packages.find]
where = ["src"]
"""

INIT = '''"""seqcore-plugin-{name}: importing the package registers its components (the decorators
run) and exposes its hooks to seqcore, which loads it through the ``seqcore`` entry point."""

{imports}

__all__ = [{all}]
'''

README = """# seqcore-plugin-{name}

A seqcore plug-in (for `{core}{core_range}`) providing: {components}.

## Install and try

    pip install .            # or: pip install -e ".[test]" while you work on it
    seqcore plugins          # lists {name} and its components
    pytest tests             # the seqcore.testing conformance kit checks every component

Train and translate with it (a data-bin folder made by `seqcore preprocess`):

    seqcore train DATA {train_flags_text} --max-tokens 4096 --save-dir ckpt
    seqcore generate DATA --path ckpt/checkpoint_best.pt --beam 5

## Layout

- `pyproject.toml`: the `seqcore` entry point (`{name} = "{package}"`) and the compatible range
  of `{core}`.
- `src/{package}/`: one module per component, each commented with the contract it follows.
- `tests/`: `conftest.py` loads the kit (`pytest_plugins = ["seqcore.testing"]`); the tests
  call its checks and train with the components through `seqcore` in-process.

## Publishing

Bump `version` in `pyproject.toml` first (an uploaded version can never be uploaded again), and
keep the `{core}` range to the core releases you tested with:

    python -m pip install build twine && python -m build    # dist/: the sdist and the wheel
    twine upload --repository testpypi dist/*               # try it from TestPyPI first
    twine upload dist/*
"""

CONFTEST = '''"""Loads the seqcore.testing kit: its fixtures and checks for these tests."""

pytest_plugins = ["seqcore.testing"]
'''

TESTS_HEAD = '''"""seqcore-plugin-{name} keeps seqcore's contracts: the kit's checks, a real run."""

{imports}


def test_listed_by_seqcore_plugins(seqcore_cli):
    result = seqcore_cli("plugins")
    assert result.returncode == 0, result.stderr
    assert "seqcore-plugin-{name}" in result.stdout
'''

# kind -> (the kit's check it uses, its test)
TESTS = {
    "model": (
        "check_model_architectures",
        """

def test_model_conforms():
    assert check_model_architectures("{name}") == ["{name}", "{name}_tiny"]
""",
    ),
    "criterion": (
        "check_criterion",
        """

def test_criterion_conforms():
    check_criterion("{name}_cross_entropy", "{arch}", model_overrides={arch_overrides})
""",
    ),
    "task": (
        "check_task",
        """

def test_task_conforms(tiny_translation_data):
    name, arch = "{name}_translation", "{arch}"  # the model it builds: a tiny one
    check_task(name, tiny_translation_data, arch=arch, model_overrides={arch_overrides})


def test_task_drops_source_words_in_training_only(tiny_translation_data):
    # beyond the contract, what the task is for: the batch its steps hand the criterion
    cfg = {camel}TranslationConfig(data=str(tiny_translation_data), source_word_dropout=0.5)
    task = {camel}Translation.setup_task(cfg)
    task.load_dataset("train")
    batches = task.get_batch_iterator(task.dataset("train"), max_tokens=1024)
    sample = next(iter(batches.next_epoch_itr(shuffle=False)))
    seen = []

    def criterion(model, sample):  # records the source tokens the model would read
        seen.append(sample["net_input"]["src_tokens"])
        return torch.zeros((), requires_grad=True), 1, {{}}

    class Optimizer:
        def backward(self, loss):
            loss.backward()

    model = torch.nn.Linear(1, 1)
    torch.manual_seed(0)  # as the trainer seeds each micro-batch
    task.train_step(sample, model, criterion, Optimizer(), update_num=0)
    task.valid_step(sample, model, criterion)
    source = sample["net_input"]["src_tokens"]
    trained, validated = seen
    words = source.ne(task.src_dict.pad()) & source.ne(task.src_dict.eos())
    dropped = trained.ne(source)
    assert trained[dropped].eq(task.src_dict.unk()).all()  # a dropped word reads <unk>
    assert 0 < dropped.sum() < words.sum() and not dropped[~words].any()
    assert validated.equal(source)  # validation sees the sources as they are
""",
    ),
    "optimizer": (
        "check_optimizer",
        """

def test_optimizer_conforms():
    check_optimizer("{name}_sgd")
""",
    ),
    "lr_scheduler": (
        "check_lr_scheduler",
        """

def test_lr_scheduler_conforms():
    check_lr_scheduler("{name}_warmup")
""",
    ),
    "hook": (
        "check_hooks",
        """

def test_hooks_conform():
    check_hooks({package})
""",
    ),
    "command": (
        "",
        """

def test_command(seqcore_cli):
    result = seqcore_cli("{name}-info")
    assert result.returncode == 0, result.stderr
    assert "seqcore-plugin-{name}" in result.stdout
""",
    ),
}

TEST_TRAIN = """

def test_train_and_generate(tiny_translation_data, seqcore_cli, tmp_path):
    save = tmp_path / "checkpoints"
    flags = [{train_flags}
    ]
    train = seqcore_cli(
        "train",
        str(tiny_translation_data),
        *flags,
        *["--max-tokens", "64", "--max-update", "4", "--num-workers", "0"],
        *["--save-dir", str(save)],
    )
    assert train.returncode == 0, train.stderr
    generate = seqcore_cli(
        "generate",
        str(tiny_translation_data),
        *["--path", str(save / "checkpoint_last.pt"), "--beam", "2", "--max-tokens", "64"],
    )
    assert generate.returncode == 0, generate.stderr
    assert any(line.startswith("H-") for line in generate.stdout.splitlines())
"""
