"""A third-party model from a --user-dir module (a GRU encoder-decoder written against
seqcore's public model API, with a decoder cache) trains and decodes through the commands."""

from __future__ import annotations

import pytest
from core.evaluation.helpers import parse_generation
from support import run_cli, write

MODULE = """
from dataclasses import dataclass, field

import torch
from torch import nn

from seqcore.models import (
    Decoder,
    Encoder,
    EncoderDecoderModel,
    register_model,
    register_model_architecture,
)


@dataclass
class TinyGruConfig:
    hidden_dim: int = field(default=8, metadata={"help": "GRU size"})


class GruEncoder(Encoder):
    def __init__(self, dictionary, dim):
        super().__init__(dictionary)
        self.embed = nn.Embedding(len(dictionary), dim, padding_idx=dictionary.pad())
        self.rnn = nn.GRU(dim, dim, batch_first=True)

    def forward(self, src_tokens, src_lengths):
        states, _ = self.rnn(self.embed(src_tokens))
        return {"states": states, "padding_mask": src_tokens.eq(self.dictionary.pad())}


class GruDecoder(Decoder):
    def __init__(self, dictionary, dim):
        super().__init__(dictionary)
        self.embed = nn.Embedding(len(dictionary), dim, padding_idx=dictionary.pad())
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.out = nn.Linear(2 * dim, len(dictionary))

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
        hidden = self.get_incremental_state(incremental_state, "hidden")
        tokens = prev_output_tokens if hidden is None else prev_output_tokens[:, -1:]
        x, hidden = self.rnn(self.embed(tokens), hidden)
        self.set_incremental_state(incremental_state, "hidden", hidden)
        states = encoder_out["states"]
        scores = torch.bmm(x, states.transpose(1, 2))
        scores = scores.masked_fill(encoder_out["padding_mask"][:, None, :], float("-inf"))
        context = torch.bmm(scores.softmax(dim=-1), states)
        return self.out(torch.cat([x, context], dim=-1)), None

    def reorder_incremental_state(self, incremental_state, new_order):
        hidden = self.get_incremental_state(incremental_state, "hidden")
        if hidden is not None:  # (layers, batch, dim): the batch is dimension 1
            self.set_incremental_state(
                incremental_state, "hidden", hidden.index_select(1, new_order)
            )

    def max_positions(self):
        return 256


@register_model("tiny_gru", dataclass=TinyGruConfig)
class TinyGru(EncoderDecoderModel):
    @classmethod
    def build_model(cls, cfg, task):
        return cls(
            GruEncoder(task.source_dictionary, cfg.hidden_dim),
            GruDecoder(task.target_dictionary, cfg.hidden_dim),
        )


@register_model_architecture("tiny_gru", "tiny_gru_small")
def tiny_gru_small(cfg):
    cfg.hidden_dim = getattr(cfg, "hidden_dim", 12)
"""


@pytest.fixture(scope="module")
def user_dir_model(copy_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("third-party")
    user_dir = root / "my_gru_models"
    write(user_dir / "__init__.py", MODULE)
    save_dir = root / "ck"
    result = run_cli(
        "train", str(copy_data), "--user-dir", str(user_dir), "-a", "tiny_gru_small",
        "--optimizer", "adam", "--lr", "0.01", "--max-tokens", "512", "--max-update", "5",
        "--num-workers", "0", "--log-format", "none", "--save-dir", str(save_dir),
        "--no-epoch-checkpoints",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return user_dir, save_dir / "checkpoint_last.pt"


def test_generate_and_interactive_decode_with_the_user_dir(copy_data, user_dir_model):
    user_dir, checkpoint = user_dir_model
    args = [str(copy_data), "--user-dir", str(user_dir), "--path", str(checkpoint)]
    result = run_cli("generate", *args, "--max-len-b", "8", "--beam", "3")
    assert result.returncode == 0, result.stderr
    rows = parse_generation(result.stdout)
    assert sorted(rows["H"]) == list(range(40))
    for i, (_, text) in rows["H"].items():
        assert len(text.split()) <= 8
        assert len(rows["P"][i]) == len(text.split()) + 1
    assert result.stdout.splitlines()[-1].startswith("Generate test with beam=3: BLEU = ")
    # decoding without the cache (the whole prefix every step) finds the same hypotheses
    recomputed = run_cli("generate", *args, "--max-len-b", "8", "--beam", "3", "--recompute-prefix")
    assert recomputed.returncode == 0, recomputed.stderr
    again = parse_generation(recomputed.stdout)
    assert {i: h[1] for i, h in again["H"].items()} == {i: h[1] for i, h in rows["H"].items()}
    answer = run_cli("interactive", *args, "--max-len-b", "8", input="w1 w2\n")
    assert answer.returncode == 0, answer.stderr
    assert parse_generation(answer.stdout)["S"] == {0: "w1 w2"}


def test_without_the_user_dir_the_error_names_it(copy_data, user_dir_model):
    user_dir, checkpoint = user_dir_model
    result = run_cli("generate", str(copy_data), "--path", str(checkpoint))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"seqcore: error: {checkpoint} needs model architecture 'tiny_gru_small' from user dir "
        f"{user_dir.resolve()} (module my_gru_models), which is not installed here; pass "
        f"--user-dir {user_dir.resolve()}"
    )
