"""Legacy fairseq components (``add_args(parser)``, built from a Namespace) in seqcore's option
system: a criterion, a task and a model of tests/core/porting/legacy_components/ train, decode,
show their flags and take their values from flags and config files as dataclass components do."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest
import torch
from core.porting.helpers import LEGACY

from seqcore import utils
from seqcore.checkpoint_utils import load_model_ensemble
from seqcore.cli.train import train_command
from seqcore.config.legacy import legacy_config_class
from seqcore.criterions import Criterion, register_criterion
from seqcore.errors import RegistrationError
from seqcore.loader import load_user_dir
from seqcore.tasks import setup_task
from seqcore.testing.cli import run_cli

LEGACY_RUN = [
    "--user-dir", str(LEGACY), "--task", "legacy_translation",
    "--criterion", "legacy_smoothed_cross_entropy", "--optimizer", "adam",
]  # fmt: skip


def resolve(data, *args):
    return train_command.resolve_args([str(data), *LEGACY_RUN, *args])


def test_legacy_task_criterion_and_model_train_and_generate(data, tmp_path, isolated):
    trained = run_cli(
        "train", str(data), *LEGACY_RUN, "-a", "legacy_bag_tiny", "--smoothing", "0.1",
        "--per-sentence", "--pooling", "max", "--hidden-sizes", "12,10", "--no-bias",
        "--left-pad-source", "False", "-s", "src", "-t", "tgt", "--lr", "0.01",
        "--max-tokens", "500", "--max-update", "3", "--num-workers", "0",
        "--log-format", "none", "--save-dir", str(tmp_path),
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    checkpoint = tmp_path / "checkpoint_last.pt"
    state = torch.load(checkpoint, weights_only=True)  # the Namespaces are not in it
    configs = state["cfg"]["configs"]
    assert configs["model"] == {
        "embed_dim": 8, "hidden_sizes": [12, 10], "pooling": "max", "bias": False,
        "share_embeddings": True, "unused_dim": None,
    }  # fmt: skip
    assert configs["criterion"] == {
        "smoothing": 0.1, "per_sentence": True, "ignore_eos": False, "report": "loss",
    }  # fmt: skip
    assert configs["task"]["left_pad_source"] == "False"
    assert configs["task"]["source_lang"] == "src"
    decoded = run_cli(
        "generate", str(data), "--user-dir", str(LEGACY), "--path", str(checkpoint),
        "--beam", "2", "--max-len-b", "4",
    )  # fmt: skip
    assert decoded.returncode == 0, decoded.stderr
    assert len(re.findall(r"^H-\d+\t", decoded.stdout, re.M)) == 16
    # rebuilt from the checkpoint alone, the model gets the run's options as saved
    load_user_dir(LEGACY)  # run_cli forgets a run's user dirs when it ends
    (model,), _, task = load_model_ensemble([str(checkpoint)], data=str(data))
    assert isinstance(model.args, argparse.Namespace) and isinstance(task.args, argparse.Namespace)
    assert (model.args.embed_dim, model.args.hidden_sizes, model.args.bias) == (8, [12, 10], False)
    assert model.args.max_update == 3 and model.args.seed == 1  # the trainer's, as saved
    assert model.args.left_pad_source == "False" and task.args.left_pad_source is False
    assert model.args.data == str(data) and not hasattr(model.args, "unused_dim")
    assert model.args.dropout == 0.1  # set by the architecture, not an option: set again


def test_each_component_is_built_with_a_namespace_of_the_run(data, isolated):
    cfg = resolve(data, "-a", "legacy_bag_base", "--left-pad-source", "False", "--smoothing", "0.2")
    task = setup_task(cfg.task)
    assert isinstance(task.args, argparse.Namespace)
    assert task.args.left_pad_source is False  # the task's setup_task turned the text to a bool
    assert (task.args.source_lang, task.args.target_lang) == ("src", "tgt")
    assert task.args.train_subset == "train"  # a trainer option, as in fairseq's args
    criterion = task.build_criterion(cfg.criterion)
    assert isinstance(criterion.args, argparse.Namespace)
    assert (criterion.eps, criterion.args.per_sentence) == (0.2, False)
    model = task.build_model(cfg.model)
    args = model.args
    assert isinstance(args, argparse.Namespace)
    # what the architecture's getattr filled, add_args giving no default
    assert (args.embed_dim, args.hidden_sizes, args.pooling) == (16, [24], "mean")
    assert args.share_embeddings is True and args.bias is True
    assert model.decoder.embed is model.encoder.embed
    assert not hasattr(args, "unused_dim")  # not given, no default: absent (argparse.SUPPRESS)
    assert args.dropout == 0.1 and "dropout" not in vars(cfg.model)  # the architecture's own
    assert args.max_source_positions == 1024  # the task's option
    assert args.smoothing == 0.2 and args.arch == "legacy_bag_base"
    assert args.seed == 1 and args.max_tokens is None  # the trainer's options


def test_architectures_fill_only_what_the_user_left_unset(data, isolated):
    tiny = resolve(data, "-a", "legacy_bag_tiny").model
    assert (tiny.embed_dim, tiny.hidden_sizes) == (8, [24])  # tiny's getattr, then base's
    given = resolve(
        data, "-a", "legacy_bag_tiny", "--embed-dim", "6", "--no-share-embeddings",
        "--pooling", "max",
    ).model  # fmt: skip
    assert (given.embed_dim, given.share_embeddings, given.pooling) == (6, False, "max")
    unset = resolve(data, "-a", "legacy_bag_tiny", "--embed-dim", "none").model
    assert unset.embed_dim == 8  # "none": as if not given


def test_store_true_store_false_choices_and_lists(data, tmp_path, isolated):
    cfg = resolve(
        data, "-a", "legacy_bag_base", "--per-sentence", "--no-bias", "--dataset-impl", "raw",
        "--hidden-sizes", "[5, 6]", "--truncate-source",
    )  # fmt: skip
    assert cfg.criterion.per_sentence is True and cfg.model.bias is False
    assert cfg.task.dataset_impl == "raw" and cfg.task.truncate_source is True
    assert cfg.model.hidden_sizes == [5, 6]
    off = resolve(data, "-a", "legacy_bag_base")
    assert off.criterion.per_sentence is False and off.task.truncate_source is False
    assert (off.criterion.ignore_eos, off.criterion.report) == (False, "loss")
    on = resolve(data, "-a", "legacy_bag_base", "--ignore-eos", "--report").criterion
    assert (on.ignore_eos, on.report) == (True, "all")  # BooleanOptionalAction; nargs="?" alone
    assert resolve(data, "-a", "legacy_bag_base", "--report", "nll").criterion.report == "nll"
    config = tmp_path / "run.toml"
    config.write_text('hidden_sizes = [7]\nsmoothing = 0.3\npooling = "max"\n')
    from_file = resolve(data, "-a", "legacy_bag_base", "--config", str(config), "--pooling", "mean")
    assert from_file.model.hidden_sizes == [7] and from_file.criterion.smoothing == 0.3
    assert from_file.model.pooling == "mean"  # the flag over the file


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--pooling", "sum", "Invalid value for '--pooling': 'sum' is not one of mean, max"),
        ("--smoothing", "much", "Invalid value for '--smoothing': expected a number, got 'much'"),
        (
            "--hidden-sizes",
            "8,x",
            "Invalid value for '--hidden-sizes': expected an integer, got 'x'",
        ),
    ],
)
def test_a_bad_value_is_one_line(data, flag, value, message, isolated):
    result = run_cli(
        "train", str(data), *LEGACY_RUN, "-a", "legacy_bag_base", "--max-tokens", "100",
        flag, value,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"seqcore: error: {message} (see 'seqcore train --help')"
    ]


def test_a_bad_value_in_a_config_file_names_the_file(data, tmp_path, isolated):
    config = tmp_path / "run.toml"
    config.write_text('pooling = "sum"\n')
    result = run_cli(
        "train", str(data), *LEGACY_RUN, "-a", "legacy_bag_base", "--max-tokens", "100",
        "--config", str(config),
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"seqcore: error: {config}: pooling: 'sum' is not one of mean, max"
    ]


def test_help_shows_the_add_args_flags_as_declared(isolated):
    result = run_cli("train", *LEGACY_RUN, "-a", "legacy_bag_base", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Task options (legacy_translation, from user dir" in text
    assert "-s, --source-lang SRC source language" in text
    assert "--left-pad-source BOOL pad the source on the left [default: True]" in text
    assert "--dataset-impl {mmap,raw} output dataset implementation [default: mmap]" in text
    assert "--smoothing EPS probability mass spread over the vocabulary (0.0: none)" in text
    assert "--per-sentence / --no-per-sentence divide the gradient by sentences" in text
    assert "--ignore-eos / --no-ignore-eos leave the end of sentence out" in text
    assert "--report STR what to log (all alone) [default: loss] [alone: all]" in text
    assert "--pooling {mean,max} how the source embeddings are pooled [default: mean]" in text
    assert "--bias / --no-bias no bias in the output projection [default: on]" in text


def test_the_positional_data_argument_is_required(isolated):
    result = run_cli("train", *LEGACY_RUN, "-a", "legacy_bag_base", "--max-tokens", "100")
    assert result.returncode == 1
    assert "DATA is required by task 'legacy_translation'" in result.stderr.splitlines()[-1]


class Appending:
    @staticmethod
    def add_args(parser):
        parser.add_argument("--layer", action="append", type=int)


class Renamed:
    @staticmethod
    def add_args(parser):
        parser.add_argument("--dim", dest="model_dim", type=int)


class Broken:
    @staticmethod
    def add_args(parser):
        parser.add_argument("--dim", type=int)
        parser.add_argument("--dim", type=int)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (
            Appending,
            "--layer uses action='append', which seqcore does not translate (store, "
            "store_true, store_false and BooleanOptionalAction it does); declare the option "
            "in a dataclass instead",
        ),
        (
            Renamed,
            "--dim stores into 'model_dim'; seqcore names each option after where it is "
            "stored, so declare it as --model-dim",
        ),
        (Broken, "argument --dim: conflicting option string: --dim"),
    ],
)
def test_what_cannot_be_translated_is_a_registration_error(cls, message):
    with pytest.raises(RegistrationError) as raised:
        legacy_config_class(cls, "model")
    assert str(raised.value) == f"{cls.__module__}.{cls.__qualname__}.add_args: {message}"


@dataclasses.dataclass
class NamedConfig:
    sentence_avg: bool = False


class NamedOptionsCriterion(Criterion):
    """fairseq 0.12's style: options as named constructor arguments, and the class's own
    ``build_criterion`` that passes them."""

    def __init__(self, task, sentence_avg):
        super().__init__(None, task)
        self.sentence_avg = sentence_avg

    @classmethod
    def build_criterion(cls, cfg, task):
        return cls(task, cfg.sentence_avg)

    def forward(self, model, sample, reduce=True):
        raise NotImplementedError


def test_a_criterions_own_build_criterion_is_called(data, isolated):
    register_criterion("named_options", dataclass=NamedConfig)(NamedOptionsCriterion)
    cfg = train_command.resolve_args(
        [str(data), "-a", "lstm", "--criterion", "named_options", "--sentence-avg",
         "--optimizer", "adam"]
    )  # fmt: skip
    criterion = setup_task(cfg.task).build_criterion(cfg.criterion)
    assert isinstance(criterion, NamedOptionsCriterion) and criterion.sentence_avg is True


def test_the_conformance_kit_checks_legacy_components(isolated):
    from seqcore.loader import load_user_dir
    from seqcore.testing import check_criterion, check_model

    load_user_dir(LEGACY)
    check_model("legacy_bag_tiny")
    check_model("legacy_bag_base", {"pooling": "max", "hidden_sizes": [6, 5], "bias": False})
    check_criterion("legacy_smoothed_cross_entropy", "legacy_bag_tiny", {"smoothing": 0.1})


class RequiredLast:
    @staticmethod
    def add_args(parser):
        parser.add_argument("--size", type=int, default=3, help="size (default: %(default)s)")
        parser.add_argument("--name", required=True)
        parser.add_argument("--ratio", type=float, default="0.5")
        parser.add_argument("--betas", type=utils.eval_str_list, default="(0.9, 0.98)")


def test_required_arguments_text_defaults_and_type_functions():
    config = legacy_config_class(RequiredLast, "criterion")
    fields = {f.name: f for f in dataclasses.fields(config)}
    made = config(name="x")  # --name is required; it may follow arguments with defaults
    assert (made.size, made.ratio, made.betas) == (3, 0.5, [0.9, 0.98])  # defaults read by type=
    assert fields["size"].metadata["help"] == "size (default: 3)"
    with pytest.raises(TypeError):
        config()
