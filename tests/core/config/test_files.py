"""``--config FILE.toml`` (seqcore.config.files): what ``seqcore config`` writes is read back by
TOML itself to the same values, and a file that is not a flat TOML document is one line naming
it."""

from __future__ import annotations

import enum
import math

import pytest
import tomllib

from seqcore.config.files import dump_config, load_config_file
from seqcore.errors import ConfigError


class Mode(enum.Enum):
    FAST = 1


def test_dumped_values_read_back_with_tomllib():
    values = {"arch": "transformer", "lr": [0.25], "betas": (0.9, 0.98), "fp16": False,
              "share_all_embeddings": True, "max_tokens": 4096, "dropout": 0.1,
              "path": 'a "quoted" \\ name', "mode": Mode.FAST}  # fmt: skip
    text = dump_config(values)
    read = tomllib.loads(text)
    assert read == {**values, "betas": [0.9, 0.98], "mode": "FAST"}
    assert type(read["max_tokens"]) is int and type(read["dropout"]) is float


def test_values_toml_cannot_hold_are_comments():
    text = dump_config({"max_update": None, "max_source_positions": {"task": 1024, "model": 256},
                        "loss": float("nan")})  # fmt: skip
    assert text.splitlines()[:2] == [
        "# max_update = (none)",
        "# max_source_positions = 1024 (task), 256 (model): each component's own default",
    ]
    read = tomllib.loads(text)
    assert list(read) == ["loss"] and math.isnan(read["loss"])


def test_load_config_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(dump_config({"arch": "lstm", "lr": [0.5]}))
    assert load_config_file(path) == {"arch": "lstm", "lr": [0.5]}
    assert load_config_file(str(path)) == {"arch": "lstm", "lr": [0.5]}


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "--config {path}: no such file"),
        ("lr = = 3\n", "{path}: not valid TOML: "),
        (
            "[optimizer]\nlr = 3\n",
            "{path}: [optimizer] is a table; config files are flat (key = value lines only)",
        ),  # fmt: skip
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "c.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    assert str(caught.value).startswith(message.format(path=path))
    assert "\n" not in str(caught.value)


def test_a_folder_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match=rf"^--config {tmp_path}: cannot read it \("):
        load_config_file(tmp_path)
