"""seqcore.utils: fairseq.utils' helpers for ported code, each checked against its documented
behaviour computed another way (row by row in Python, torch's own functions)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seqcore import utils
from seqcore.models import Decoder

PAD = 1


def padded(rows: list[list[int]], left: bool) -> torch.Tensor:
    width = max(map(len, rows))
    return torch.tensor(
        [[PAD] * (width - len(r)) + r if left else r + [PAD] * (width - len(r)) for r in rows]
    )


ROWS = [[5, 6, 7, 2], [8, 2], [9, 4, 2], [3, 3, 3, 3, 2]]


def test_convert_padding_direction_moves_each_rows_padding():
    left, right = padded(ROWS, left=True), padded(ROWS, left=False)
    assert torch.equal(utils.convert_padding_direction(left, PAD, left_to_right=True), right)
    assert torch.equal(utils.convert_padding_direction(right, PAD, right_to_left=True), left)
    # already on the wanted side, or no padding: unchanged
    assert torch.equal(utils.convert_padding_direction(right, PAD, left_to_right=True), right)
    full = torch.tensor([[4, 5, 2], [6, 7, 2]])
    assert torch.equal(utils.convert_padding_direction(full, PAD, right_to_left=True), full)
    with pytest.raises(ValueError):
        utils.convert_padding_direction(full, PAD)


def test_strip_pad_and_make_positions():
    row = padded(ROWS, left=True)[1]
    assert utils.strip_pad(row, PAD).tolist() == [8, 2]
    tokens = padded(ROWS, left=True)
    expected = [
        [PAD] * (5 - len(r)) + list(range(PAD + 1, PAD + 1 + len(r))) for r in ROWS
    ]  # pads keep PAD, the others count from PAD + 1
    assert utils.make_positions(tokens, PAD).tolist() == expected


def test_incremental_state_helpers_use_the_modules_own_keys():
    class Step(Decoder):
        def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None):
            return prev_output_tokens.float(), None

    a, b, state = Step(None), Step(None), {}
    assert utils.get_incremental_state(a, state, "h") is None
    assert utils.set_incremental_state(a, state, "h", 1) is state
    utils.set_incremental_state(b, state, "h", 2)
    assert utils.get_incremental_state(a, state, "h") == 1
    assert utils.get_incremental_state(b, state, "h") == 2
    assert utils.get_incremental_state(a, None, "h") is None  # no cache, nothing stored
    utils.set_incremental_state(a, None, "h", 3)
    assert len(state) == 2


def test_softmax_activation_and_small_helpers():
    x = torch.randn(3, 5, dtype=torch.float64).half()
    assert utils.softmax(x, dim=-1).dtype == torch.float32
    expected = torch.softmax(x.double(), dim=-1).float()
    assert torch.allclose(utils.softmax(x, dim=-1), expected, atol=1e-6)
    assert torch.allclose(utils.log_softmax(x, dim=-1).exp(), expected, atol=1e-6)
    y = torch.linspace(-3, 3, 13)
    assert torch.equal(utils.get_activation_fn("relu")(y), nn.ReLU()(y))
    assert torch.equal(utils.get_activation_fn("gelu_accurate")(y), nn.GELU("tanh")(y))
    assert torch.equal(utils.get_activation_fn("linear")(y), y)
    with pytest.raises(ValueError, match="unknown activation 'elu'"):
        utils.get_activation_fn("elu")
    assert utils.item(torch.tensor([2.5])) == 2.5 and utils.item(7) == 7
    assert utils.fill_with_neg_inf(torch.zeros(2, dtype=torch.half)).eq(float("-inf")).all()


def test_eval_helpers_read_literals_without_running_code():
    assert utils.eval_str_list("[0.1, 0.2]") == [0.1, 0.2]
    assert utils.eval_str_list("3", type=int) == [3]
    assert utils.eval_str_list(None) is None
    assert utils.eval_bool("False") is False and utils.eval_bool(None, default=True) is True
    with pytest.raises(ValueError):
        utils.eval_bool("__import__('os').getcwd()")
