"""``seqcore config`` writes what ``seqcore train`` resolves: flags -> config -> --config -> the
same configuration, for the first-party components (in-process: the commands' own resolution,
without training)."""

from __future__ import annotations

import dataclasses

import pytest
import tomllib
from click.testing import CliRunner
from support import write

from seqcore.cli.config import config_command
from seqcore.cli.train import train_command
from seqcore.config.component import make_config
from seqcore.config.fields import Component
from seqcore.config.files import dump_config, load_config_file
from seqcore.config.resolve import ResolvedConfig, resolve
from seqcore.errors import ConfigError

TASKS = ["translation", "language_modeling"]
ARCHS = [
    "transformer",
    "transformer_iwslt_de_en",
    "transformer_wmt_en_de",
    "transformer_vaswani_wmt_en_de_big",
    "transformer_vaswani_wmt_en_fr_big",
    "transformer_wmt_en_de_big",
    "transformer_lm",
    "transformer_lm_big",
    "transformer_lm_gpt",
    "lstm",
    "lstm_wiseman_iwslt_de_en",
    "lstm_luong_wmt_en_de",
    "lstm_lm",
]
CRITERIONS = ["cross_entropy", "label_smoothed_cross_entropy"]
OPTIMIZERS = ["sgd", "adam"]
# with what each schedule cannot do without
SCHEDULERS = {
    "fixed": [],
    "inverse_sqrt": [],
    "polynomial_decay": ["--max-update", "100"],
    "cosine": ["--max-update", "100"],
    "tri_stage": ["--max-update", "100", "--phase-ratio", "(0.1, 0.4, 0.5)"],
    "reduce_lr_on_plateau": [],
}
FLAGS = ["--max-tokens", "600", "--seed", "3", "--train-subset", "tr", "--dropout", "0.2"]


def combinations() -> list[list[str]]:
    """Every architecture with every schedule (78 lines); the task, criterion, optimizer and
    extra flags vary with the indices so that every pair of components of two kinds occurs."""
    lines = []
    for a, arch in enumerate(ARCHS):
        for s, (scheduler, needed) in enumerate(SCHEDULERS.items()):
            args = ["DATA", "--task", TASKS[(a + s // 3) % 2], "-a", arch]
            args += ["--criterion", CRITERIONS[(a // 2 + s) % 2]]
            args += ["--optimizer", OPTIMIZERS[(a + s) % 2]]
            args += ["--lr-scheduler", scheduler, *needed]
            lines.append(args + (FLAGS if (a + s) % 3 == 0 else []))
    return lines


def config_output(args: list[str]) -> str:
    result = CliRunner().invoke(config_command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", combinations(), ids=lambda args: "-".join(args[2:11:2]))
def test_config_file_resolves_to_what_train_resolves_the_flags_to(args, tmp_path):
    text = config_output(args)
    saved = write(tmp_path / "run.toml", text)
    from_flags = train_command.resolve_args(args)
    from_file = train_command.resolve_args(["--config", str(saved)])
    assert from_file.as_dict() == from_flags.as_dict()
    # the output names every value train uses (or says it has none, or one per component)
    for key in from_flags.flat_values():
        assert f"{key} = " in text or f"# {key} = " in text, key


def test_every_pair_of_components_occurs():
    lines = [dict(zip(args[1:11:2], args[2:11:2])) for args in combinations()]
    kinds = ["--task", "-a", "--criterion", "--optimizer", "--lr-scheduler"]
    for i, one in enumerate(kinds):
        for other in kinds[i + 1 :]:
            pairs = {(line[one], line[other]) for line in lines}
            n_one = len({line[one] for line in lines})
            n_other = len({line[other] for line in lines})
            assert len(pairs) == n_one * n_other, (one, other)


def test_config_takes_the_training_options():
    args = ["DATA", "-a", "transformer", "--optimizer", "adam", "--max-tokens", "600"]
    text = config_output(args)
    values = tomllib.loads(text)
    assert values["max_tokens"] == 600 and values["data"] == "DATA"
    assert values["lr"] == [0.25]  # what the run uses: the optimizer's and the schedule's


@dataclasses.dataclass
class _SlowOptimizerConfig:
    lr: list[float] = dataclasses.field(default_factory=lambda: [0.1])


@dataclasses.dataclass
class _ScheduleConfig:
    lr: list[float] = dataclasses.field(default_factory=lambda: [0.25])


def test_an_option_with_different_defaults_keeps_each_on_the_way_back(tmp_path):
    """Two components declaring ``lr`` with different defaults: the file must not impose one
    of them on both (the run would train at the optimizer's rate, not the schedule's)."""
    components = [
        Component("optimizer", "slow", _SlowOptimizerConfig),
        Component("lr_scheduler", "plain", _ScheduleConfig),
    ]

    def resolved(explicit):
        configs = resolve(components, None, explicit)
        return ResolvedConfig({}, configs, {c.role: None for c in components})

    first = resolved({})
    text = dump_config(first.flat_values())
    assert "lr = " not in text.replace("# lr = ", "")
    assert "# lr = [0.1] (optimizer), [0.25] (lr_scheduler)" in text
    again = resolved(load_config_file(write(tmp_path / "c.toml", text)))
    assert again.as_dict() == first.as_dict()
    # a value the user gave is one value for both, and written as such
    given = resolved({"lr": [0.5]})
    assert tomllib.loads(dump_config(given.flat_values()))["lr"] == [0.5]
    assert make_config(_ScheduleConfig, "plain", {"lr": [0.5]}).lr == given.lr_scheduler.lr


def test_a_field_named_like_a_training_option_is_refused_as_train_refuses_it(tmp_path):
    folder = write(
        tmp_path / "seqcore_test_device_field" / "__init__.py",
        """
        from dataclasses import dataclass

        from seqcore.criterions import register_criterion
        from seqcore.criterions.cross_entropy import CrossEntropyCriterion


        @dataclass
        class DeviceConfig:
            device: int = 0


        @register_criterion("test_device_field", dataclass=DeviceConfig)
        class DeviceFieldCriterion(CrossEntropyCriterion):
            pass
        """,
    ).parent
    args = ["DATA", "--user-dir", str(folder), "--criterion", "test_device_field"]
    args += ["-a", "transformer", "--optimizer", "sgd"]
    errors = []
    for command in (train_command, config_command):
        with pytest.raises(ConfigError) as caught:
            command.resolve_args(args)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert "--device" in errors[0] and "test_device_field" in errors[0]
